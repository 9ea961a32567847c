"""``medic server start``: a long-running local Prefect server that later ``medic run``s reuse.

With it, runs skip Prefect's temporary-server start-up (several seconds each), show in the UI at the server's
address, and keep their history. Point runs at it with ``PREFECT_API_URL=http://HOST:PORT/api``.
``--database`` puts its data in PostgreSQL (several workers at once; medic.plugins.server.database): the password
never appears on a command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("server", help="a long-running local Prefect server for faster runs and a UI")
    psub = p.add_subparsers(dest="server_command", metavar="SUBCOMMAND", required=True)
    start = psub.add_parser("start", help="run the server in the foreground (Ctrl-C stops it)")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=4200)
    start.add_argument("--database", metavar="URL",
                       help="PostgreSQL for several workers: postgresql://USER@HOST:PORT/DB, no password in it; "
                            "'sqlite': Prefect's default (default: MEDIC_SERVER_DATABASE, else server.database in "
                            "the configuration, else SQLite)")
    start.add_argument("--database-password-file", metavar="FILE",
                       help="the database password, one line in a file of yours with mode 0600 (default: "
                            "MEDIC_SERVER_DATABASE_PASSWORD_FILE, else server.database_password_file in the "
                            "configuration, else ~/.pgpass)")
    start.set_defaults(func=cmd_start)


def cmd_start(args: argparse.Namespace) -> int:
    from medic.core.config import config_path, load_config
    from medic.flows import prefect_env
    from medic.plugins.server.database import POOL_DEFAULTS, from_options
    from medic.plugins.server.settings import server_auth_for_start

    server_auth_for_start(args.host)  # MEDIC_PREFECT_AUTH_FILE: the server asks clients for that string
    database = from_options(args.database, args.database_password_file, load_config(), str(config_path()))
    prefect_env.configure()
    if database is not None:
        os.environ.update(database.server_env())  # the password through the environment only, never argv
        for key, value in POOL_DEFAULTS.items():
            os.environ.setdefault(key, value)
    url = f"http://{args.host}:{args.port}"
    print(f"Prefect server for medic: UI at {url}\nIn other shells: export PREFECT_API_URL={url}/api\n"
          f"Database: {database.describe() if database else 'SQLite (one worker at a time; several: --database)'}",
          file=sys.stderr)
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", args.host, "--port", str(args.port)]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process: signals and exit code are the server's own
    return 0  # pragma: no cover - execv does not return
