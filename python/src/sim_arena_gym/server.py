"""Start a local ``sim-arena serve`` for tests, examples and notebooks.

    with LocalServer() as url:
        env = SimArenaEnv(url, scenario="cpu-slight")

The command is ``node <repo>/bin/sim-arena.js serve --host 127.0.0.1 --port 0`` (the repository found from
$SIM_ARENA_REPO, this package's checkout, or the working directory); $SIM_ARENA_CLI replaces ``node
<repo>/bin/sim-arena.js`` when set (e.g. a globally installed ``sim-arena``). The server prints
``listening on http://HOST:PORT`` as its first line; that is the URL.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Sequence

__all__ = ["LocalServer", "find_repo", "serve_command"]


def find_repo() -> Path | None:
    """The sim-arena checkout holding bin/sim-arena.js, if one can be found."""
    candidates = []
    if os.environ.get("SIM_ARENA_REPO"):
        candidates.append(Path(os.environ["SIM_ARENA_REPO"]))
    here = Path(__file__).resolve()
    candidates.extend(here.parents)
    cwd = Path.cwd().resolve()
    candidates.extend([cwd, *cwd.parents])
    for c in candidates:
        if (c / "bin" / "sim-arena.js").is_file() and (c / "package.json").is_file():
            return c
    return None


def serve_command(extra: Sequence[str] = ()) -> tuple[list[str], Path | None]:
    """The command that starts a server on a free port, and the directory to run it in."""
    custom = os.environ.get("SIM_ARENA_CLI")
    repo = find_repo()
    if custom:
        cli = shlex.split(custom)
    elif repo is not None:
        cli = ["node", str(repo / "bin" / "sim-arena.js")]
    else:
        raise RuntimeError("cannot find the sim-arena repository (bin/sim-arena.js); set SIM_ARENA_REPO or SIM_ARENA_CLI")
    return [*cli, "serve", "--host", "127.0.0.1", "--port", "0", *extra], repo


class LocalServer:
    """A ``sim-arena serve`` child process. ``url`` is set once it listens; ``stop()`` ends it."""

    def __init__(self, extra_args: Sequence[str] = (), startup_timeout: float = 120.0) -> None:
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.url: str | None = None
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def start(self) -> str:
        cmd, cwd = serve_command(self.extra_args)
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        first: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if not first:
                    first.append(line.strip())
                    ready.set()
            ready.set()  # EOF: the process ended

        threading.Thread(target=read, daemon=True, name="sim-arena-serve-stdout").start()
        ready.wait(self.startup_timeout)
        line = first[0] if first else ""
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"sim-arena serve did not start ({' '.join(cmd)}): first line {line!r}; stderr:\n{self.stderr()}")
        self.url = line[len("listening on ") :].strip()
        return self.url

    def stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # python -m sim_arena_gym.server: run one in the foreground
    with LocalServer(sys.argv[1:]) as url:
        print(f"sim-arena server at {url} (Ctrl-C stops it)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
