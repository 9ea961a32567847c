"""``medic casespage [--bind HOST:PORT] [--token-file FILE]``: serve the read-only cases page."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from medic.core.config import load_config, state_dir
from medic.kernel.errors import UsageError
from medic.plugins.casespage.auth import is_loopback, read_token

DEFAULT_BIND = "127.0.0.1:8081"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("casespage", help="serve the read-only cases page (list, case, FAR, KB search)",
                              description="Serve the cases page on loopback (default 127.0.0.1:8081). Bound "
                                          "beyond loopback it needs --token-file. Exit codes: 0 stopped, 2 usage "
                                          "error (bad --bind, no or unsafe token file), 3 internal error.")
    p.add_argument("--bind", default=DEFAULT_BIND, metavar="HOST:PORT", help=f"default {DEFAULT_BIND}")
    p.add_argument("--token-file", metavar="FILE",
                   help="a file (mode 0600) holding the token requests must carry (bearer, or basic password)")
    p.set_defaults(func=cmd_casespage)


def parse_bind(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--bind {text!r}: expected HOST:PORT, e.g. {DEFAULT_BIND}")
    return host, int(port)


def cmd_casespage(args: argparse.Namespace) -> int:
    import uvicorn

    from medic.plugins.casespage import views
    from medic.plugins.casespage.app import make_app, sources

    host, port = parse_bind(args.bind)
    token = read_token(args.token_file) if args.token_file else None
    if token is None and not is_loopback(host):
        raise UsageError(f"--bind {args.bind}: beyond loopback the page needs --token-file (a 0600 file)")
    config = load_config()
    src = sources(state_dir(config), config)
    evaluated = views.prepare(src)  # the SLA state of every case not evaluated yet: not the first visitor's wait
    if evaluated:
        print(f"SLA states of {evaluated} cases evaluated", file=sys.stderr)
    app = make_app(src, token)
    print(f"cases page on http://{args.bind}/" + (" (token required)" if token else ""), file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
