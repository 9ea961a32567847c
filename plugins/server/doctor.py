"""``medic doctor server``: is the Prefect server of ``PREFECT_API_URL`` usable, and usable safely?

One line per check, ``ok``, ``warn`` or ``FAIL``, in this order: the URL (loopback, or https with an auth string),
the auth file's mode, TLS, the server's health (``/api/health`` answers without credentials), the auth string
(an authenticated request: 401 means the string is wrong), the database kind (SQLite, or the PostgreSQL of
``medic server start --database``), and the medic deployments the fast path can use.
Exit code: 0 when nothing failed, else the code of the first failure (2 a refused setting or auth file, 3 a
server that cannot be reached or refuses the auth string: 401). The auth string itself is never printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from medic.kernel.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, MedicError
from medic.plugins.server import settings as cfg
from medic.plugins.server.api import FLOW_NAME, PrefectAPI
from medic.plugins.server.database import kind


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check medic's environment (the Prefect server)")
    psub = p.add_subparsers(dest="doctor_command", metavar="SUBCOMMAND", required=True)
    server = psub.add_parser("server", help="URL, TLS, health, auth string and file mode of PREFECT_API_URL")
    server.set_defaults(func=cmd_server)


class Report:
    def __init__(self) -> None:
        self.code = EXIT_OK

    def line(self, level: str, what: str, text: str, code: int = EXIT_OK) -> None:
        print(f"{level:<5} {what}: {text}", flush=True)
        if level == "FAIL" and self.code == EXIT_OK:
            self.code = code or EXIT_INTERNAL


def cmd_server(args: argparse.Namespace) -> int:
    report = Report()
    url = cfg.api_url()
    if url is None:
        report.line("FAIL", "url", f"{cfg.URL_ENV} is not set: medic runs on a temporary server each time "
                                   f"(start one: medic server start; then export {cfg.URL_ENV})", EXIT_USAGE)
        return report.code
    auth = _auth(report)
    if not isinstance(auth, str):  # False: the auth file was refused, a FAIL line says why
        return report.code
    try:
        cfg.check_url(url, auth or None)
    except MedicError as exc:
        report.line("FAIL", "url", str(exc), exc.exit_code)
        return report.code
    where = "this machine (loopback)" if cfg.is_loopback(url) else "another machine, https with an auth string"
    report.line("ok", "url", f"{url}: {where}")
    settings = cfg.prepare()
    assert settings is not None  # the URL is set
    with PrefectAPI(settings, timeout=5.0) as api:
        if not _step(report, "health", lambda: _health(api)):
            return report.code
        if url.startswith("https://"):
            ca = os.environ.get(cfg.CA_ENV)
            report.line("ok", "tls", "certificate verified" + (f" against {cfg.CA_ENV}={ca}" if ca else ""))
        elif cfg.is_loopback(url):
            report.line("ok", "tls", "plain http on loopback: nothing crosses the network")
        if not _step(report, "auth", lambda: _auth_check(api, settings)):
            return report.code
        _step(report, "database", lambda: _database(api))
        _step(report, "deployments", lambda: _deployments(api))
    return report.code


def _auth(report: Report) -> str | bool:
    """The auth string ('' when none), or False after a FAIL line (a refused file)."""
    try:
        auth, source = cfg.auth_string()
    except MedicError as exc:
        report.line("FAIL", "auth file", str(exc), exc.exit_code)
        return False
    if source.startswith(cfg.AUTH_FILE_ENV):
        report.line("ok", "auth file", f"{source}: mode 0600 or stricter, your own")
    elif auth:
        report.line("warn", "auth file", f"the auth string comes from {cfg.AUTH_ENV} itself; a 0600 file "
                                         f"named by {cfg.AUTH_FILE_ENV} keeps it out of shell history")
    return auth or ""


def _step(report: Report, what: str, check: Callable[[], tuple[str, str]]) -> bool:
    try:
        level, text = check()
    except MedicError as exc:
        report.line("FAIL", what, str(exc), exc.exit_code)
        return False
    report.line(level, what, text)
    return level != "FAIL"


def _health(api: PrefectAPI) -> tuple[str, str]:
    healthy = api.health()
    return ("ok", "the server answers /health") if healthy else ("FAIL", "/health answered false")


def _auth_check(api: PrefectAPI, settings: cfg.ServerSettings) -> tuple[str, str]:
    version = api.request("GET", "admin/version", "its version")
    if settings.auth:
        return "ok", f"the server accepts the auth string from {settings.auth_source} (Prefect {version})"
    return "warn", (f"the server accepts requests without an auth string (Prefect {version}): anyone who "
                    f"reaches {settings.url} can start runs; set PREFECT_SERVER_API_AUTH_STRING on it")


def _database(api: PrefectAPI) -> tuple[str, str]:
    """The server's database kind from ``/admin/settings`` (Prefect obfuscates its secrets there)."""
    found = kind(api.request("GET", "admin/settings", "its settings"))
    if found.startswith("postgresql"):
        return "ok", f"{found}: several workers can share this server"
    return "ok", f"{found}: one worker at a time (several: medic server start --database postgresql://...)"


def _deployments(api: PrefectAPI) -> tuple[str, str]:
    body = {"flows": {"name": {"any_": [FLOW_NAME]}}, "limit": 200}
    found = api.request("POST", "deployments/filter", f"deployments of {FLOW_NAME}", body)
    ready = sorted(d["name"] for d in found if d.get("status") == "READY")
    if not found:
        return "warn", f"no {FLOW_NAME} deployment: medic run uses no fast path (medic deploy creates them)"
    waiting = sorted(d["name"] for d in found if d.get("status") != "READY")
    text = f"{len(found)} {FLOW_NAME} deployment(s); served now (fast path): {', '.join(ready) or 'none'}"
    return ("ok" if ready else "warn"), text + (f"; not served: {', '.join(waiting)}" if waiting else "")
