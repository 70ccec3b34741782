"""A small JSON client for the sim-arena env server (``sim-arena serve``), on the standard library only.

Every non-2xx answer becomes a :class:`SimArenaError` (or a subclass by status) carrying the server's message.
"""

from __future__ import annotations

import json
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping, Sequence

__all__ = [
    "Client",
    "SimArenaError",
    "BadRequestError",
    "UnauthorizedError",
    "EnvNotFoundError",
    "TooManyEnvsError",
    "ServerError",
    "ConnectionFailedError",
]

CLIENT_TOKEN_HEADER = "X-Client-Token"


class SimArenaError(Exception):
    """The server refused or failed a request. ``status`` is the HTTP status (0 when it could not be reached)."""

    def __init__(self, message: str, status: int = 0, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f" ({self.method} {self.path} -> {self.status})" if self.status else ""
        return f"{self.message}{where}"


class BadRequestError(SimArenaError, ValueError):
    """400: a bad action, seed, option, scenario or body; or a step the episode does not allow (reset first)."""


class UnauthorizedError(SimArenaError, PermissionError):
    """401: the server wants ``Authorization: Bearer <token>``."""


class EnvNotFoundError(SimArenaError, KeyError):
    """404: no such env (never created, deleted, expired, or created by another client token)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return SimArenaError.__str__(self)


class TooManyEnvsError(SimArenaError):
    """429: the server holds as many envs as it allows; close some."""


class ServerError(SimArenaError):
    """5xx: the server failed (a backend error, a bug)."""


class ConnectionFailedError(SimArenaError, ConnectionError):
    """The server could not be reached."""


def _error_for(status: int) -> type[SimArenaError]:
    if status == 400 or status == 413 or status == 405:
        return BadRequestError
    if status == 401:
        return UnauthorizedError
    if status == 404:
        return EnvNotFoundError
    if status == 429:
        return TooManyEnvsError
    if status >= 500:
        return ServerError
    return SimArenaError


class Client:
    """Talks to one server.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8000``.
        token: the server's bearer token (``sim-arena serve --token``), if it has one.
        client_token: binds the envs this client creates to it, so no other client can see them. By default each
            Client makes a random one; pass ``False`` to create envs reachable by anyone who knows their id.
        timeout: seconds to wait for one answer (a cluster backend's step can take minutes).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        client_token: str | bool | None = None,
        timeout: float = 600.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        if client_token is None or client_token is True:
            client_token = secrets.token_hex(16)
        if client_token:
            self._headers[CLIENT_TOKEN_HEADER] = str(client_token)
        self.client_token = client_token or None

    # ---- transport ----

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request and return the decoded JSON answer; raise SimArenaError on anything but 2xx."""
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=self._headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            message = _message(raw) or f"HTTP {e.code} {e.reason}"
            raise _error_for(e.code)(message, e.code, method, path) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise ConnectionFailedError(f"cannot reach the sim-arena server at {self.url}: {reason}", 0, method, path) from None
        if not raw:
            return None
        return json.loads(raw)

    # ---- API ----

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/healthz")

    def scenarios(self) -> list[dict[str, Any]]:
        return self.request("GET", "/v1/scenarios")["scenarios"]

    def create_env(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """POST /v1/envs; returns {id, observation_space, action_space, env}."""
        return self.request("POST", "/v1/envs", dict(config))

    def describe(self, env_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/envs/{_quote(env_id)}")

    def spaces(self, env_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/envs/{_quote(env_id)}/spaces")

    def reset(self, env_id: str, seed: int | None = None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if seed is not None:
            body["seed"] = int(seed)
        if options is not None:
            body["options"] = dict(options)
        return self.request("POST", f"/v1/envs/{_quote(env_id)}/reset", body)

    def step(self, env_id: str, action: int | str) -> dict[str, Any]:
        return self.request("POST", f"/v1/envs/{_quote(env_id)}/step", {"action": _action(action)})

    def step_batch(self, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """POST /v1/step-batch with items {id, action} or {id, reset: {seed?, options?}}.

        Raises the first item's error if any item failed (the others may have been applied)."""
        results = self.request("POST", "/v1/step-batch", {"steps": [dict(i) for i in items]})["results"]
        for r in results:
            if "error" in r:
                status = int(r.get("status", 500))
                raise _error_for(status)(f"env {r.get('id')}: {r['error']}", status, "POST", "/v1/step-batch")
        return results

    def delete(self, env_id: str) -> None:
        self.request("DELETE", f"/v1/envs/{_quote(env_id)}")


def _quote(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _action(a: Any) -> int | str:
    if isinstance(a, str):
        return a
    try:
        import numpy as np

        if isinstance(a, np.ndarray):
            if a.size != 1:
                raise BadRequestError(f"an action is one integer, got an array of shape {a.shape}")
            a = a.reshape(()).item()
        elif isinstance(a, np.generic):
            a = a.item()
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    if isinstance(a, bool) or not isinstance(a, int):
        # Let the server say what is wrong with it (floats, None, ...), with its own message.
        return a  # type: ignore[return-value]
    return a


def _message(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip()
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return str(body)
