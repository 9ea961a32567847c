"""``medic runs list|show|cancel`` against the Prefect server of ``PREFECT_API_URL`` (flow runs of
``medic-playbook``: their state, parameters and the findings of their ``medic-findings`` artifact).

The change plugin's ``medic runs`` hands over to these when ``PREFECT_API_URL`` is set (``--local`` keeps the
local history). A run is named by its flow run id or its name (e.g. ``comical-hog``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from medic.kernel.errors import UsageError
from medic.plugins.server import settings as cfg
from medic.plugins.server.api import FINDINGS_KEY, TERMINAL, PrefectAPI, findings_rows

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NOT_STARTED = ("SCHEDULED", "PENDING", "PAUSED")


def use_server(args: argparse.Namespace) -> bool:
    return not getattr(args, "local", False) and cfg.api_url() is not None


def _api() -> PrefectAPI:
    settings = cfg.prepare()
    if settings is None:
        raise UsageError(f"medic runs cancel needs a Prefect server: set {cfg.URL_ENV} (runs here end with "
                         f"their command: Ctrl-C)")
    return PrefectAPI(settings)


def playbook_of(flow_run: dict[str, Any]) -> str:
    for tag in flow_run.get("tags") or []:
        if tag.startswith("playbook:"):
            return str(tag.removeprefix("playbook:"))
    return "?"


def _state(flow_run: dict[str, Any]) -> dict[str, Any]:
    return dict(flow_run.get("state") or {})


def row(flow_run: dict[str, Any]) -> dict[str, Any]:
    state = _state(flow_run)
    return {"id": flow_run["id"], "name": flow_run.get("name"), "playbook": playbook_of(flow_run),
            "state": state.get("name") or state.get("type"), "message": state.get("message"),
            "started": flow_run.get("start_time") or flow_run.get("expected_start_time"),
            "parameters": flow_run.get("parameters") or {}, "tags": flow_run.get("tags") or []}


def cmd_list(args: argparse.Namespace) -> int:
    with _api() as api:
        rows = [row(r) for r in reversed(api.flow_runs())]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for r in rows:
        print(f"{r['id']}  {r['name'] or '?':<24} {r['playbook']:<18} {r['state'] or '?':<10} "
              f"{(r['message'] or '')[:60]}")
    if not rows:
        print(f"no runs of medic-playbook on {cfg.api_url()}")
    return 0


def find(api: PrefectAPI, ref: str) -> dict[str, Any]:
    """The flow run with this id or name (one line naming it when there is none)."""
    if UUID.match(ref):
        found = api.request("GET", f"flow_runs/{ref}", f"flow run {ref}", missing_ok=True)
        if found:
            return dict(found)
    else:
        named = api.flow_runs_named(ref)
        if len(named) == 1:
            return named[0]
        if named:
            raise UsageError(f"several flow runs are named {ref!r}: name it by id (medic runs list)")
    raise UsageError(f"no flow run {ref!r} on {cfg.api_url()}; `medic runs list` shows them")


def cmd_show(args: argparse.Namespace) -> int:
    with _api() as api:
        flow_run = find(api, args.run_id)
        rows = findings_rows(api.artifacts(flow_run["id"]).get(FINDINGS_KEY))
    r = row(flow_run)
    if args.json:
        json.dump({**r, "findings": rows}, sys.stdout, indent=2, default=str)
        print()
        return 0
    counts = {s: sum(1 for f in rows if f.get("status") == s) for s in ("fail", "error", "warn", "pass")}
    print(f"{r['id']} ({r['name']}): {r['playbook']} {r['state']} ({counts['fail']} fail, {counts['error']} error, "
          f"{counts['warn']} warn, {counts['pass']} pass), started {r['started']}")
    if r["message"]:
        print(f"  message: {r['message']}")
    print(f"  parameters: {json.dumps(r['parameters'], sort_keys=True, default=str)}")
    for f in rows:
        if f.get("status") != "pass":
            print(f"  {f.get('status', '?'):<7} {f.get('check')} on {f.get('target')}: {f.get('summary')}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    """A run not started yet becomes Cancelled; a running one Cancelling (its worker or ``medic serve`` stops
    its process, then marks it Cancelled); a finished one is left alone (exit 2)."""
    with _api() as api:
        flow_run = find(api, args.run_id)
        state_type = _state(flow_run).get("type")
        if state_type in TERMINAL:
            raise UsageError(f"flow run {flow_run.get('name')} ({flow_run['id']}) already ended "
                             f"{_state(flow_run).get('name')}: nothing to cancel")
        target = ("CANCELLED", "Cancelled") if state_type in NOT_STARTED else ("CANCELLING", "Cancelling")
        body = {"state": {"type": target[0], "name": target[1], "message": "cancelled with medic runs cancel"}}
        answer = api.request("POST", f"flow_runs/{flow_run['id']}/set_state", f"flow run {flow_run['id']}", body)
    status = (answer or {}).get("status")
    if status not in ("ACCEPT", None):
        raise UsageError(f"the server did not cancel flow run {flow_run['id']}: {status} "
                         f"{((answer or {}).get('details') or {}).get('reason', '')}".rstrip())
    print(f"{flow_run['id']} ({flow_run.get('name')}): {target[1]}")
    return 0
