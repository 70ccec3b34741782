// Replays a Dockerfile's stages on this machine, without a container engine: each stage gets a directory standing in
// for its root filesystem, WORKDIR/COPY/ENV act on it and RUN runs with `sh` there (on the host's Node, not the
// base image's). It checks what the image build does with our sources — that the build stage compiles, that the
// runtime stage's production dependencies suffice for the compiled entry point — not the base image itself.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (buf && line.trimStart().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      buf += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (buf + line).trim();
    buf = '';
    const m = /^(\S+)\s+([\s\S]*)$/.exec(full);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  return out;
}

export interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint?: string[];
}

/** Options split off an instruction's arguments (`--from=build`, `--mount=...`). */
function flags(args: string): { flags: Record<string, string>; rest: string } {
  const f: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
    if (!m) return { flags: f, rest };
    f[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
}

export function replayDockerfile(
  dockerfile: string,
  context: string,
  scratch: string,
  log: (line: string) => void = () => undefined,
): Stage[] {
  const stages: Stage[] = [];
  let cur: Stage | undefined;
  const inRoot = (s: Stage, p: string) => path.join(s.root, path.isAbsolute(p) ? p : path.join(s.workdir, p));
  for (const { op, args } of parseDockerfile(readFileSync(dockerfile, 'utf8'))) {
    if (op === 'FROM') {
      const m = /^\S+(?:\s+AS\s+(\S+))?$/i.exec(args);
      const name = m?.[1] ?? `stage${stages.length}`;
      cur = { name, root: path.join(scratch, name), workdir: '/', env: {} };
      mkdirSync(cur.root, { recursive: true });
      stages.push(cur);
      continue;
    }
    if (op === 'ARG' || op === 'LABEL' || op === 'USER') continue;
    if (!cur) throw new Error(`${op} before FROM`);
    if (op === 'WORKDIR') {
      cur.workdir = path.posix.resolve(cur.workdir, args);
      mkdirSync(path.join(cur.root, cur.workdir), { recursive: true });
    } else if (op === 'ENV') {
      for (const m of args.matchAll(/(\w+)=(\S+)/g)) cur.env[m[1]!] = m[2]!;
    } else if (op === 'COPY') {
      const { flags: f, rest } = flags(args);
      const parts = rest.split(/\s+/);
      const dest = parts.pop()!;
      const from = f.from ? stages.find((s) => s.name === f.from) : undefined;
      if (f.from && !from) throw new Error(`COPY --from=${f.from}: no such stage`);
      for (const src of parts) {
        const source = from ? inRoot(from, src) : path.join(context, src);
        const isDir = statSync(source).isDirectory();
        const target =
          dest.endsWith('/') || parts.length > 1 ? path.join(inRoot(cur, dest), path.basename(src)) : inRoot(cur, dest);
        mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
        cpSync(source, target, { recursive: true });
      }
    } else if (op === 'RUN') {
      const { rest } = flags(args);
      if (/\brm\s+-[a-z]*\s+\//.test(rest))
        throw new Error(`RUN deletes an absolute path, which this replay would do on the host: ${rest}`);
      log(`[${cur.name}] RUN ${rest}`);
      // HOME stays the host's: the image's HOME would send npm's cache to an empty directory.
      const { HOME: _home, ...env } = cur.env;
      void _home;
      const r = spawnSync('sh', ['-c', rest], {
        cwd: path.join(cur.root, cur.workdir),
        env: { ...process.env, ...env },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      if (r.status !== 0)
        throw new Error(`[${cur.name}] RUN ${rest} exited ${r.status}:\n${(r.stdout + r.stderr).slice(-3000)}`);
    } else if (op === 'ENTRYPOINT') {
      cur.entrypoint = JSON.parse(args) as string[];
    } else {
      throw new Error(`unsupported instruction ${op}`);
    }
  }
  return stages;
}
