"""``medic fleet run`` and ``medic fleet show``: one playbook over many hosts, split into shards run by workers.

The parent flow is medic.flows.fleet; this module parses the command, reports the shards, and with ``--wait``
sends the fleet's one ``run.finished`` to the channels of the configuration, the playbook's ``notify:`` and
``--notify`` (the shards send none); it says when a shard of a playbook that changes hosts crashed (it is never
re-run: its hosts need ``medic recover`` where it ran). ``show`` prints a finished fleet run again from its saved
shard results (JSON only: a file that is anything else is refused, nothing in it is run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from medic.kernel.errors import MedicError, UsageError

RUN_HELP = ("Start one run of medic-playbook/PLAYBOOK per shard of the inventory's hosts (medic deploy and a "
            "worker first), and with --wait follow them and aggregate their findings. A read-only playbook's "
            "shard that crashed or fell silent (its worker died) is started again at most --shard-retries times; "
            "a changing playbook's is flagged for `medic recover` and notified. Exit codes: 0 no check failed, "
            "1 a check failed, 2 usage error (unknown playbook, deployment or host, bad input), 3 a shard did not "
            "complete (unreachable hosts, crashed, or no live worker: a fleet whose workers all died, or that no "
            "worker polls, ends after the zombie window deploy.crashed_after_s, its silent shards Crashed and its "
            "waiting ones Cancelled, named on one line) or the server is down.")


def register_fleet(sub: Any) -> None:
    from medic.cli.service import positive_int

    f = sub.add_parser("fleet", help="run a playbook over many hosts, split into shards run by the workers")
    fsub = f.add_subparsers(dest="fleet_command", metavar="COMMAND", required=True)
    r = fsub.add_parser("run", help="split the hosts into shards, one deployment run per shard, one report",
                        description=RUN_HELP)
    r.add_argument("playbook", metavar="PLAYBOOK", help="a deployed playbook's name")
    r.add_argument("--inventory", required=True, metavar="FILE", help="inventory file (the workers read it too)")
    r.add_argument("--target", "-t", action="append", default=[], metavar="GROUP",
                   help="hosts or groups of the inventory (repeatable, comma-separated; default: all)")
    r.add_argument("--shards", type=positive_int, default=4, metavar="N", help="number of shards (default 4)")
    r.add_argument("--shard-retries", type=int, default=2, metavar="N",
                   help="re-submit a crashed or silent shard of a read-only playbook at most N times (default 2)")
    r.add_argument("--hosts-at-once", type=positive_int, default=0, metavar="N",
                   help="SSH sessions open at once over all shards, shared among them (as Ansible's forks; "
                        "default: 16 per shard)")
    r.add_argument("--input", "-i", action="append", default=[], metavar="KEY=VALUE", help="playbook input")
    r.add_argument("--notify", action="append", default=[], metavar="CHANNEL[:ARG]",
                   help="also send the fleet's result to this channel (besides the config's and the playbook's "
                        "notify:), one run.finished saying which shards need `medic recover`")
    r.add_argument("--wait", action="store_true", help="follow the shards to their end and aggregate findings")
    r.set_defaults(func=cmd_fleet_run)
    s = fsub.add_parser("show", help="print a fleet run's shards and report again from its saved results",
                        description="Read the shard results a fleet run saved (JSON only; anything else is "
                                    "refused, nothing in it is run). Exit codes: 0 shown, 2 no such run, 3 a "
                                    "result file is not medic's JSON.")
    s.add_argument("run", metavar="RUN", help="the run id printed by medic fleet run, or its directory")
    s.set_defaults(func=cmd_fleet_show)


def cmd_fleet_run(args: argparse.Namespace) -> int:
    from medic.cli.run import parse_inputs
    from medic.cli.service import _require_deployment, _service_env
    from medic.core.config import state_dir
    from medic.core.engine import new_run_id
    from medic.core.session import Session
    from medic.plugins.channels import runnotify
    from medic.plugins.ssh import inventory as inventory_mod

    session = Session()
    _service_env(session.config)
    runnotify.checked_config_channels(session, args.notify)
    playbook = session.load_playbook(args.playbook)
    given = parse_inputs(args.input)
    inputs = {k: v for k, v in playbook.bind_inputs(given).items() if k in given}
    names = [n.strip() for spec in args.target or ["all"] for n in spec.split(",") if n.strip()]
    hosts = [h.name for h in inventory_mod.load(args.inventory).select(names)]
    channels = runnotify.run_channels(session, playbook, args.notify)  # each checked before anything runs
    from medic.flows.deploy import settings
    from medic.flows.fleet import fleet_flow, load, read_only
    from medic.flows.service_errors import require_server, server_errors

    url = require_server("fleet run")
    results_dir = Path(state_dir(session.config)) / "fleet" / new_run_id()
    with server_errors():
        _require_deployment(playbook.name, url)
        parameters = {**inputs, "inventory": str(Path(args.inventory).resolve())}
        state = fleet_flow(playbook.name, hosts, args.shards, parameters, max(0, args.shard_retries),
                           read_only(playbook), args.wait, str(results_dir),
                           float(settings(session.config)["crashed_after_s"]), args.hosts_at_once,
                           return_state=True)
    if not results_dir.is_dir():  # the parent flow itself failed before any shard ended
        raise MedicError(f"fleet {playbook.name}: the parent flow {state.type.value}: {state.message}")
    results = load(results_dir)
    _print_shards(results)
    if not args.wait:
        return 0
    rows = [row for r in results for row in r.findings]
    print(f"medic: fleet {playbook.name}: {len(hosts)} host(s), {len(rows)} finding(s); {state.message}; "
          f"shard results in {results_dir}", file=sys.stderr)
    for problem in _notify_fleet(session, channels, playbook.name, results, results_dir):
        print(f"medic: {problem}", file=sys.stderr)
    code = exit_code(results)
    if code == 3:
        print(f"medic: {unfinished(playbook.name, results)}", file=sys.stderr)
    return code


def unfinished(playbook: str, results: list[Any]) -> str:
    """One line naming the shards that did not complete, their state and hosts, and what to do."""
    bad = [r for r in results if r.state != "COMPLETED"]
    shards = "; ".join(f"shard {r.index} {r.state}{' (needs medic recover)' if r.recover else ''}: "
                       f"{', '.join(r.hosts)}" for r in bad)
    dead = any("no worker polls" in r.message or "no live worker" in r.message for r in bad)
    advice = " (no live worker: start `medic worker` or `medic serve`, then run again)" if dead else ""
    return f"fleet {playbook}: {len(bad)} of {len(results)} shard(s) did not complete{advice}: {shards}"


def exit_code(results: list[Any]) -> int:
    rows = [row for r in results for row in r.findings]
    if any(r.state != "COMPLETED" and not any(row.get("status") == "fail" for row in r.findings) for r in results):
        return 3
    return 1 if any(row.get("status") == "fail" for row in rows) else 0


def _print_shards(results: list[Any]) -> None:
    for r in results:
        print(f"shard {r.index}: {len(r.hosts)} host(s), {r.state} ({r.attempts} attempt(s)) {r.message}".rstrip())


def _notify_fleet(session: Any, channels: list[str], playbook: str, results: list[Any], results_dir: Path
                  ) -> list[str]:
    """One ``run.finished`` for the whole fleet (its shards do not notify); when shards of a changing playbook
    crashed, it says they need ``medic recover`` and lists their hosts."""
    from medic.core import notify
    from medic.core.config import state_dir

    if not channels:
        return []
    routes = notify.resolve(channels, session.registry.channels, session.config)
    outbox = state_dir(session.config) / "outbox.sqlite"
    return notify.deliver(routes, fleet_note(playbook, results, results_dir), outbox)


def fleet_note(playbook: str, results: list[Any], results_dir: Path) -> Any:
    from medic.core.channel import Notification

    rows = [row for r in results for row in r.findings]
    counts = {s: sum(1 for row in rows if row.get("status") == s) for s in ("fail", "warn", "error", "pass")}
    flagged = [r for r in results if r.recover]
    unfinished = [r for r in results if r.state != "COMPLETED"]
    hosts = [h for r in results for h in r.hosts]
    body = (f"{len(hosts)} host(s) in {len(results)} shard(s): {counts['fail']} fail, {counts['warn']} warn, "
            f"{counts['error']} error, {counts['pass']} pass")
    if unfinished:
        body += f"; {len(unfinished)} shard(s) did not complete"
    if flagged:
        body += (f"; a crashed run of {playbook} (it changes hosts) is never re-run: run `medic recover` where it "
                 f"ran, then check {', '.join(h for r in flagged for h in r.hosts)}")
    status = "error" if unfinished else "fail" if counts["fail"] else "warn" if counts["warn"] else "pass"
    title = (f"medic fleet {playbook}: {len(flagged)} shard(s) crashed" if flagged
             else f"medic fleet {playbook}: {len(hosts)} host(s)")
    return Notification(
        event="run.finished", status=status, title=title, body=body,
        data={"playbook": playbook, "counts": counts, "hosts": len(hosts), "results": str(results_dir),
              "unfinished": [{"shard": r.index, "state": r.state, "hosts": r.hosts} for r in unfinished],
              "needs_recover": [{"shard": r.index, "flow_run_id": r.flow_run_id, "hosts": r.hosts}
                                for r in flagged]})


def cmd_fleet_show(args: argparse.Namespace) -> int:
    from medic.core.config import load_config, state_dir
    from medic.flows.fleet import load, report

    directory = Path(args.run)
    if not directory.is_dir():
        directory = Path(state_dir(load_config())) / "fleet" / args.run
    if not directory.is_dir():
        raise UsageError(f"no fleet run {args.run!r} (expected a run id under {directory.parent} or a directory)")
    results = load(directory)
    _print_shards(results)
    hosts = [h for r in results for h in r.hosts]
    print(report(directory.name, results, hosts), end="")
    return 0
