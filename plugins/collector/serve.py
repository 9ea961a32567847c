"""``medic collector serve DIR``: the routes on uvicorn (httptools), TLS only; plain HTTP is never offered."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from medic.core.session import Session
from medic.plugins.collector import config as config_mod
from medic.plugins.collector.app import build_app
from medic.plugins.collector.context import Collector
from medic.plugins.collector.keys import certificate_pin
from medic.plugins.collector.triage import TriageQueue


def serve(directory: Path, bind: str | None = None) -> int:
    cfg = config_mod.load(directory)
    host, port = config_mod.parse_bind(bind or cfg.bind, "--bind" if bind else f"{directory}: bind")
    cert, key = config_mod.resolve(directory, cfg.tls_cert), config_mod.resolve(directory, cfg.tls_key)
    for what, path in (("tls_cert", cert), ("tls_key", key)):
        if not path.is_file():
            raise config_mod.UsageError(f"{directory}: {what} {path}: no such file (TLS is required)")
    session = Session()
    triage = TriageQueue(session, cfg.triage_playbook, cfg.triage_queue)
    col = Collector.open(directory, hooks=session.hooks, triage=triage)
    server = uvicorn.Server(uvicorn.Config(
        build_app(col), host=host, port=port, ssl_certfile=str(cert), ssl_keyfile=str(key), http="httptools",
        lifespan="off", log_level="warning", server_header=False, timeout_graceful_shutdown=5))
    print(f"medic collector: serving https://{host}:{port}/ for {cfg.public_url}, pin {certificate_pin(cert)}",
          file=sys.stderr, flush=True)
    try:
        server.run()
    finally:
        triage.stop()
        col.store.close()
    return 0
