"""``medic sla status [--breaching]``, ``medic sla tick`` and ``medic sla watch --interval S`` (added through the
hook ``register_commands``). ``medic deploy`` schedules the same tick as a Prefect flow (flows/sla_flow.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from medic.core.config import load_config, state_dir
from medic.plugins.cases import routing
from medic.plugins.cases.escalate import Send, SlaRunner, channel_sender
from medic.plugins.cases.sla import Evaluation
from medic.plugins.cases.store import open_store

DEFAULT_INTERVAL_S = 60


def register(sub: Any) -> None:
    sl = sub.add_parser("sla", help="SLA clocks of cases: status, evaluate once (tick), evaluate in a loop (watch)")
    ssub = sl.add_subparsers(dest="sla_command", metavar="SUBCOMMAND", required=True)
    st = ssub.add_parser("status", help="every open case's clocks: elapsed working time against its budgets")
    st.add_argument("--breaching", action="store_true", help="only cases with a clock past 80 % or breached")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    tk = ssub.add_parser("tick", help="evaluate the clocks once: send warnings, escalations and updates due")
    tk.set_defaults(func=cmd_tick)
    wt = ssub.add_parser("watch", help="evaluate the clocks every S seconds until interrupted")
    wt.add_argument("--interval", type=float, default=60.0, metavar="S", help="seconds between ticks (default 60)")
    wt.add_argument("--count", type=int, default=None, metavar="N", help="stop after N ticks")
    wt.set_defaults(func=cmd_watch)


def sender(loaded: routing.Routing, config: dict[str, Any], with_channels: bool = True) -> Send:
    """Messages to the channels routing.yaml names (``notify``, ``escalate``); none when it names none."""
    if with_channels and (loaded.notify or loaded.escalate):
        from medic.core.session import Session

        return channel_sender(loaded, Session(config=config).registry.channels, config,
                              state_dir(config) / "outbox.sqlite")

    def send(audience: str, note: Any) -> list[str]:
        return []
    return send


def _runner(with_channels: bool = True) -> SlaRunner:
    config = load_config()
    loaded = routing.load()
    return SlaRunner(open_store(config), loaded, sender(loaded, config, with_channels), state_dir(config) / "runs")


def _line(ev: Evaluation) -> str:
    clocks = " | ".join(f"{c.name} {c.state} {100 * c.fraction:.0f}%" for c in ev.clocks) or "no clock"
    return (f"{ev.case.id}  {ev.case.priority or '-':<8} {ev.case.state:<16} tier {ev.case.tier}  {clocks}  "
            f"updates {ev.updates_sent}/{ev.updates_due}")


def cmd_status(args: argparse.Namespace) -> int:
    runner = _runner(with_channels=False)
    try:
        found = [ev for ev in runner.evaluate_all() if ev.case.is_open and (ev.at_risk or not args.breaching)]
    finally:
        runner.store.close()
    if args.json:
        json.dump([{"case_id": ev.case.id, "priority": ev.case.priority, "state": ev.case.state,
                    "tier": ev.case.tier, "clocks": [c.to_json() for c in ev.clocks],
                    "updates_due": ev.updates_due, "updates_sent": ev.updates_sent, "at_risk": ev.at_risk}
                   for ev in found], sys.stdout, indent=2)
        print()
        return 0
    if not found:
        print("no case at risk" if args.breaching else "no open case with a priority")
    for ev in found:
        print(_line(ev))
    return 0


def tick_once() -> list[str]:
    """Evaluate every clock once and send what is due (``medic sla tick``, and the ``medic-sla`` flow's run)."""
    runner = _runner()
    try:
        return runner.tick()
    finally:
        runner.store.close()


def cmd_tick(args: argparse.Namespace) -> int:
    lines = tick_once()
    print("\n".join(lines) if lines else "nothing due")
    return 0


def clock_interval_s(config: dict[str, Any]) -> int:
    """``deploy.sla_interval_s``: seconds between two evaluations of the clocks (60 by default), wherever they run."""
    return int((config.get("deploy") or {}).get("sla_interval_s", DEFAULT_INTERVAL_S))


def watch(interval: float, count: int | None = None) -> None:
    """Tick every ``interval`` seconds, printing what was sent (``medic sla watch``; ``medic serve`` without a
    Prefect server)."""
    runner = _runner()
    done = 0
    try:
        while count is None or done < count:
            for line in runner.tick():
                print(line, flush=True)
            done += 1
            if count is None or done < count:
                time.sleep(interval)
    finally:
        runner.store.close()


def cmd_watch(args: argparse.Namespace) -> int:
    watch(args.interval, args.count)
    return 0
