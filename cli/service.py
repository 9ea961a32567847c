"""``medic deploy``, ``medic serve`` and ``medic worker``: medic's playbooks as a Prefect service.

All three need a Prefect server (``PREFECT_API_URL``, and ``PREFECT_API_AUTH_STRING`` when it has one). Prefect
is imported only when one of them runs, so the rest of the CLI stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from medic.kernel.errors import UsageError

DEFAULT_POOL = "medic"  # medic.flows.deploy.DEFAULT_POOL, without importing Prefect to build the parser
EXIT_CODES = ("Exit codes: 0 done, 2 bad option, unknown playbook or work pool, bad schedule (cron, timezone, "
              "inputs) in the configuration, 3 Prefect server unreachable or refusing the credentials.")


def register(sub: Any) -> None:
    p = sub.add_parser("deploy", help="create or update the work pool, one deployment per playbook, schedules",
                       description="Create or update (never duplicate) a process work pool, one deployment "
                                   "medic-playbook/<playbook> per packaged and configured playbook (its inputs "
                                   "as a form), the schedules: of the configuration and the automation that "
                                   "sets silent runs Crashed. " + EXIT_CODES)
    p.add_argument("--pool", default=DEFAULT_POOL, metavar="NAME", help="process work pool (default: medic)")
    p.add_argument("--playbook", action="append", default=[], metavar="NAME",
                   help="deploy only this playbook (repeatable; default: every playbook)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.set_defaults(func=cmd_deploy)
    s = sub.add_parser("serve", help="serve every playbook deployment from this process (Prefect's serve)",
                       description="Serve the deployments medic-playbook/<playbook> from one long-lived process "
                                   "until interrupted: runs started from the UI, the API or a schedule run here. "
                                   "Without a Prefect server (PREFECT_API_URL unset) the SLA clocks tick here "
                                   "instead, every deploy.sla_interval_s seconds (60). " + EXIT_CODES)
    s.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs at once (default: no limit)")
    s.add_argument("--playbook", action="append", default=[], metavar="NAME",
                   help="serve only this playbook (repeatable; default: every playbook)")
    s.add_argument("--cases-page", nargs="?", const="127.0.0.1:8081", metavar="HOST:PORT",
                   help="also serve the read-only cases page (default 127.0.0.1:8081), as medic casespage does")
    s.add_argument("--token-file", metavar="FILE", help="the cases page's token file (needed beyond loopback)")
    s.add_argument("--start", choices=("warm", "cold"), default="warm",
                   help="warm (default): fork each run's process from one that imported Prefect and medic once, "
                        "as medic worker does; cold: a fresh `python -m prefect.engine` per run, Prefect's own way")
    s.set_defaults(func=cmd_serve)
    w = sub.add_parser("worker", help="run a Prefect process worker for medic's work pool",
                       description="Run a process worker that takes runs of medic's deployments from the work "
                                   "pool (medic deploy creates it) until interrupted. " + EXIT_CODES)
    w.add_argument("--pool", default=DEFAULT_POOL, metavar="NAME", help="work pool (default: medic)")
    w.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs at once (default: no limit)")
    w.add_argument("--start", choices=("warm", "cold"), default="warm",
                   help="warm (default): fork each run's process from one that imported Prefect and medic once "
                        "(less CPU per run, bench/README-fleet.md); cold: a fresh `python -m prefect.engine` per "
                        "run, Prefect's own way")
    w.set_defaults(func=cmd_worker)
    from medic.cli.fleet import register_fleet

    register_fleet(sub)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _service_env(config: dict[str, Any]) -> None:
    """Prefect settings for runs started here: medic's quiet defaults and the heartbeat the automation expects."""
    from medic.plugins.server.settings import prepare

    prepare()  # PREFECT_API_URL's rules, and MEDIC_PREFECT_AUTH_FILE's string exported, before Prefect is imported
    from medic.flows import prefect_env
    from medic.flows.deploy import settings

    prefect_env.configure()
    deploy = settings(config)
    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(deploy["heartbeat_s"]))
    for key in ("PREFECT_WORKER_QUERY_SECONDS", "PREFECT_RUNNER_POLL_FREQUENCY"):  # how soon a run starts
        os.environ.setdefault(key, str(deploy["poll_s"]))


def cmd_deploy(args: argparse.Namespace) -> int:
    from medic.core.session import Session

    session = Session()
    _service_env(session.config)
    from medic.flows.deploy import apply, plan

    the_plan = plan(session, args.playbook, args.pool)
    if args.dry_run:
        print("\n".join(the_plan.lines()))
        return 0
    from medic.flows.service_errors import require_server

    url = require_server("deploy")
    for line in apply(the_plan):
        print(line)
    print(f"medic: deployed {len(the_plan.deployments)} playbook(s) to {url}; start a worker: medic worker "
          f"--pool {args.pool}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from medic.core.session import Session

    session = Session()
    from medic.plugins.server.settings import api_url

    if api_url() is None and not args.playbook:
        return _serve_without_server(session.config, args)
    _service_env(session.config)
    from medic.flows.deploy import plan
    from medic.flows.service_errors import require_server, server_errors

    require_server("serve")
    the_plan = plan(session, args.playbook, None)
    if args.playbook:  # serving some playbooks only: the SLA clocks stay with `medic deploy`'s worker
        the_plan.sla_every_s = None
    deployments = the_plan.runners()
    if args.cases_page:
        from medic.plugins.casespage.command import serve_in_background

        serve_in_background(args.cases_page, args.token_file)
    from medic.flows.run_wakeup import serve

    if args.start == "warm":
        from medic.flows.warm_serve import use_warm_starts

        use_warm_starts()
    print(f"medic: serving {len(deployments)} deployment(s) (medic-playbook, medic-sla); Ctrl-C stops",
          file=sys.stderr)
    with server_errors():
        serve(deployments, limit=args.limit)  # Prefect's, runs also started by the event stream
    return 0


def _serve_without_server(config: dict[str, Any], args: argparse.Namespace) -> int:
    """No Prefect server to serve deployments from: the SLA clocks tick in this process (what the medic-sla
    deployment does on a server), beside the cases page when asked for."""
    from medic.kernel.probes import disabled

    if "builtin_cases" in disabled():
        raise UsageError("medic serve needs a Prefect server to serve deployments: set PREFECT_API_URL (e.g. "
                         "http://127.0.0.1:4200/api after medic server start); without one it runs the SLA "
                         "clocks, and the cases plugin is disabled")
    from medic.plugins.cases import slacmd

    if args.cases_page:
        from medic.plugins.casespage.command import serve_in_background

        serve_in_background(args.cases_page, args.token_file)
    every = slacmd.clock_interval_s(config)
    print(f"medic: no Prefect server (PREFECT_API_URL unset): the SLA clocks tick here every {every} s; "
          "Ctrl-C stops", file=sys.stderr, flush=True)
    slacmd.watch(every)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from medic.core.config import load_config

    # the configuration alone, not a Session: the worker never runs a playbook itself (its runs, forked from the
    # fork server, load their own), and loading every plugin added 14 MB to each worker (bench/README-fleet.md)
    _service_env(load_config())
    from medic.flows.service_errors import require_server, server_errors

    url = require_server("worker")
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    from medic.flows.run_wakeup import alongside, worker_wakeup
    from medic.flows.warm_worker import WarmProcessWorker

    worker_type = WarmProcessWorker if args.start == "warm" else ProcessWorker
    with server_errors():
        with get_client(sync_client=True) as client:
            try:
                pool = client.read_work_pool(args.pool)
            except ObjectNotFound:
                raise UsageError(f"work pool {args.pool!r} not found on {url}: create it with medic deploy "
                                 f"--pool {args.pool}") from None
        if pool.type != "process":
            raise UsageError(f"work pool {args.pool!r} has type {pool.type!r}; medic worker runs process pools")

        async def work() -> None:
            worker = worker_type(work_pool_name=args.pool, limit=args.limit, create_pool_if_not_found=False)
            # start() sets the worker up and polls every deploy.poll_s; a run the event stream announces
            # starts at once
            await alongside(worker.start(printer=lambda *a, **k: None), worker_wakeup(worker, pool.id))

        print(f"medic: worker for pool {args.pool} at {url}; Ctrl-C stops", file=sys.stderr)
        asyncio.run(work())
    return 0


def _require_deployment(playbook: str, url: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(f"medic-playbook/{playbook}")
        except ObjectNotFound:
            raise UsageError(f"deployment medic-playbook/{playbook} not found on {url}: run medic deploy "
                             f"--playbook {playbook}") from None
