"""``medic casespage [--bind HOST:PORT] [--token-file FILE]``: serve the read-only cases page (``medic serve
--cases-page`` serves it beside the deployments or the SLA clocks)."""

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
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"--bind {text!r}: expected HOST:PORT, e.g. {DEFAULT_BIND}")
    return host, int(port)


def prepared_page(bind: str, token_file: str | None) -> tuple[Any, str, int]:
    """The page's application, host and port, with every case's SLA state evaluated before the first visitor."""
    from medic.plugins.casespage import views
    from medic.plugins.casespage.app import make_app, sources

    host, port = parse_bind(bind)
    token = read_token(token_file) if token_file else None
    if token is None and not is_loopback(host):
        raise UsageError(f"--bind {bind}: beyond loopback the page needs --token-file (a 0600 file)")
    config = load_config()
    src = sources(state_dir(config), config)
    evaluated = views.prepare(src)  # the SLA state of every case not evaluated yet: not the first visitor's wait
    if evaluated:
        print(f"SLA states of {evaluated} cases evaluated", file=sys.stderr)
    return make_app(src, token), host, port


def _announce(host: str, port: int, token_file: str | None) -> None:
    where = f"[{host}]" if ":" in host else host
    print(f"cases page on http://{where}:{port}/" + (" (token required)" if token_file else ""), file=sys.stderr,
          flush=True)


def cmd_casespage(args: argparse.Namespace) -> int:
    import uvicorn

    app, host, port = prepared_page(args.bind, args.token_file)
    _announce(host, port, args.token_file)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def serve_in_background(bind: str, token_file: str | None) -> Any:
    """``medic serve --cases-page``: the page on a daemon thread beside the long-lived service. The socket is bound
    here, so a taken port is one UsageError naming it rather than a thread dying with uvicorn's log line."""
    import socket
    import threading

    import uvicorn

    app, host, port = prepared_page(bind, token_file)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--cases-page {bind}: cannot listen there ({exc.strerror}); choose another "
                         f"HOST:PORT") from None
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="medic-casespage", daemon=True).start()
    _announce(host, sock.getsockname()[1], token_file)  # port 0: the one bound
    return server
