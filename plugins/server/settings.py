"""Where the Prefect server is and how medic may talk to it: the security rules of ``PREFECT_API_URL``.

- A server on another machine needs https and an auth string: without them medic refuses (exit 2), because the
  string would cross the network in clear text, or anyone on the network could start runs.
- The auth string comes from ``PREFECT_API_AUTH_STRING`` or from the file named by ``MEDIC_PREFECT_AUTH_FILE``
  (owned by the user, mode 0600 or stricter: a group- or world-readable file is refused). medic hands it to
  Prefect through the environment only (``PREFECT_API_AUTH_STRING``; ``PREFECT_SERVER_API_AUTH_STRING`` for
  ``medic server start``): never on a command line, never in a message or a log line.

Nothing here imports Prefect.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from medic.kernel.addresses import is_loopback_host
from medic.kernel.errors import UsageError

AUTH_FILE_ENV = "MEDIC_PREFECT_AUTH_FILE"
AUTH_ENV = "PREFECT_API_AUTH_STRING"
SERVER_AUTH_ENV = "PREFECT_SERVER_API_AUTH_STRING"
URL_ENV = "PREFECT_API_URL"
CA_ENV = "PREFECT_API_SSL_CERT_FILE"
MAX_AUTH_BYTES = 4096


@dataclass(frozen=True)
class ServerSettings:
    url: str  # PREFECT_API_URL without its trailing slash, e.g. http://127.0.0.1:4200/api
    auth: str | None  # the auth string, or None
    auth_source: str  # where it came from, for messages ("MEDIC_PREFECT_AUTH_FILE=/path", "PREFECT_API_...")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.url)

    @property
    def https(self) -> bool:
        return self.url.startswith("https://")


def api_url() -> str | None:
    """``PREFECT_API_URL``, or None when it is not set (no server: medic uses a temporary one)."""
    url = os.environ.get(URL_ENV, "").strip().rstrip("/")
    return url or None


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def read_auth_file(path_text: str) -> str:
    """The auth string in ``path_text``; refused unless it is a regular file of this user readable by no one
    else (mode 0600 or 0400)."""
    return read_secret_file(path_text, AUTH_FILE_ENV, "the auth string", "user:password")


def read_secret_file(path_text: str, label: str, what: str, shape: str = "") -> str:
    """The one-line secret in ``path_text`` (``label``: the option or variable naming it, for messages);
    refused unless it is a regular file of this user readable by no one else (mode 0600 or 0400)."""
    path = Path(path_text).expanduser()
    try:
        info = path.stat()
    except OSError as exc:
        raise UsageError(f"{label}={path}: cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{label}={path}: expected a regular file holding {what}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise UsageError(f"{label}={path}: mode {mode:04o} lets other users read {what}; "
                         f"expected 0600 (chmod 600 {path})")
    if info.st_uid != os.geteuid():
        raise UsageError(f"{label}={path}: owned by another user (uid {info.st_uid}); expected a file "
                         f"of your own with mode 0600")
    try:
        data = path.read_bytes()[: MAX_AUTH_BYTES + 1]
    except OSError as exc:
        raise UsageError(f"{label}={path}: cannot read the file ({exc.strerror or exc})") from None
    text = data.decode("utf-8", errors="strict").strip() if len(data) <= MAX_AUTH_BYTES else ""
    if not text or "\n" in text:
        raise UsageError(f"{label}={path}: expected one line holding {what}{f' ({shape})' if shape else ''}")
    return text


def auth_string() -> tuple[str | None, str]:
    """(the auth string or None, where it came from): the file wins over the variable."""
    path = os.environ.get(AUTH_FILE_ENV, "").strip()
    if path:
        return read_auth_file(path), f"{AUTH_FILE_ENV}={path}"
    value = os.environ.get(AUTH_ENV, "").strip()
    return (value or None), (AUTH_ENV if value else "none")


def check_url(url: str, auth: str | None) -> None:
    """The one-line refusals of an API URL medic must not use (exit 2)."""
    if not url.startswith(("http://", "https://")) or not urlsplit(url).hostname:
        raise UsageError(f"{URL_ENV}={url}: expected an http(s) URL such as http://127.0.0.1:4200/api")
    if is_loopback(url):
        return
    missing = [what for what, ok in (("https", url.startswith("https://")), ("an auth string", bool(auth)))
               if not ok]
    if missing:
        raise UsageError(f"{URL_ENV}={url} is not on this machine: medic talks to a remote Prefect server only "
                         f"with {' and '.join(missing)} (an https reverse proxy; the auth string in a 0600 file "
                         f"named by {AUTH_FILE_ENV}); refused")


def prepare() -> ServerSettings | None:
    """Check ``PREFECT_API_URL`` and the auth string and export the string for Prefect; None without a server.

    Call before anything talks to the server (in-process Prefect, a worker subprocess, the REST client).
    """
    url = api_url()
    if url is None:
        return None
    auth, source = auth_string()
    check_url(url, auth)
    if auth is not None:
        os.environ[AUTH_ENV] = auth  # Prefect's clients (here and in subprocesses) read it from the environment
    return ServerSettings(url, auth, source)


def server_auth_for_start(host: str) -> None:
    """``medic server start``: the server asks for the auth file's string (exported, never on its argv); a
    server listening beyond loopback without an auth string is refused."""
    path = os.environ.get(AUTH_FILE_ENV, "").strip()
    if path:
        os.environ[SERVER_AUTH_ENV] = read_auth_file(path)
    if not os.environ.get(SERVER_AUTH_ENV) and not is_loopback(f"http://{host}/"):
        raise UsageError(f"medic server start --host {host}: a server other machines can reach needs an auth "
                         f"string: put it in a 0600 file named by {AUTH_FILE_ENV} (and serve it through an "
                         f"https reverse proxy)")
