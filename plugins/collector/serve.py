"""``medic collector serve DIR``: the routes on uvicorn (httptools), TLS only; plain HTTP is never offered."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import uvicorn

from medic.core.session import Session
from medic.plugins.collector import config as config_mod
from medic.plugins.collector.app import build_app
from medic.plugins.collector.bodyproto import BodyProtocol
from medic.plugins.collector.caps import bundle_limits
from medic.plugins.collector.context import Collector
from medic.plugins.collector.deployed import DeployedTriage, arrival_hooks
from medic.plugins.collector.heap import keep_freed_memory
from medic.plugins.collector.keys import certificate_pin
from medic.plugins.collector.triage import TriageQueue
from medic.plugins.server.settings import prepare


def arrival(session: Session, playbook: str, size: int) -> tuple[TriageQueue | DeployedTriage, Any]:
    """The triage queue and the hooks arrival calls: with PREFECT_API_URL, the deployment and the event after the
    204 (deployed.py); without, the local queue."""
    local = TriageQueue(session, playbook, size)
    settings = prepare()  # a PREFECT_API_URL medic refuses (plain http off this machine...): exit 2 here
    if settings is None:
        return local, session.hooks
    return DeployedTriage(settings, playbook, size, local), arrival_hooks(session.plugins.pm)


def serve(directory: Path, bind: str | None = None) -> int:
    cfg = config_mod.load(directory)
    host, port = config_mod.parse_bind(bind or cfg.bind, "--bind" if bind else f"{directory}: bind")
    cert, key = config_mod.resolve(directory, cfg.tls_cert), config_mod.resolve(directory, cfg.tls_key)
    for what, path in (("tls_cert", cert), ("tls_key", key)):
        if not path.is_file():
            raise config_mod.UsageError(f"{directory}: {what} {path}: no such file (TLS is required)")
    session = Session()
    limits = bundle_limits(cfg)  # the triage's bundle: target reads what arrival accepted, under the same caps
    session.config["bundle"] = {**(session.config.get("bundle") or {}), "max_member_bytes": limits.max_member_bytes,
                                "max_total_bytes": limits.max_total_bytes}
    triage, hooks = arrival(session, cfg.triage_playbook, cfg.triage_queue)
    col = Collector.open(directory, hooks=hooks, triage=triage)
    server = uvicorn.Server(uvicorn.Config(
        build_app(col), host=host, port=port, ssl_certfile=str(cert), ssl_keyfile=str(key), http=BodyProtocol,
        lifespan="off", log_level="warning", server_header=False, timeout_graceful_shutdown=5))
    via = f"; triage through {triage.deployment} at {triage.settings.url}" if isinstance(triage, DeployedTriage) \
        else ""
    print(f"medic collector: serving https://{host}:{port}/ for {cfg.public_url}, pin {certificate_pin(cert)}{via}",
          file=sys.stderr, flush=True)
    keep_freed_memory()  # request bodies reuse freed heap (heap.py)
    try:
        server.run()
    finally:
        triage.stop()
        col.store.close()
    return 0
