"""Create a flow run of a medic deployment, follow it to its end, print what it found (see remote_run).

While the run goes on: each step as its task run ends (stderr, like a run here), and with ``-v`` the run's own
log lines. The steps and the run's end come from the server's event stream as they happen (medic.cli.run_events),
with a poll beside it: every 0.15 s until the stream is open, then every 2 s, a safety net for a lost event. At
the end: the findings of the ``medic-findings`` artifact as the same table, probable cause and next steps as a run
here, or with ``--json`` one document (schema ``medic.remote-run/1``); ``--report FILE.md`` writes the run's
``medic-report`` artifact. Ctrl-C cancels the run on the server, then exits 130.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from typing import Any

from medic.cli.run_events import RunEvents, run_state, task_step
from medic.kernel.errors import EXIT_FINDINGS_FAILED, EXIT_INTERNAL, EXIT_OK, MedicError
from medic.kernel.futures import Future, in_thread
from medic.plugins.server.api import FINDINGS_KEY, REPORT_KEY, TERMINAL, PrefectAPI, findings_rows

SCHEMA = "medic.remote-run/1"
POLL_S = 0.15  # the state; the steps every STEPS_EVERY polls: each request costs the (busy) server CPU too
STEPS_EVERY = 3
STREAM_POLL_S = 2.0  # the state while the event stream is open: a safety net, should an event be lost
VERDICTS = ("pass", "warn", "fail")


def exit_code(rows: list[dict[str, str]]) -> int:
    """The exit code a run here gives for these findings (medic.core.engine.RunResult.exit_code)."""
    if any(r.get("check") == "target.reachable" and r.get("status") == "error" for r in rows):
        return EXIT_INTERNAL
    if any(r.get("status") == "fail" for r in rows):
        return EXIT_FINDINGS_FAILED
    return EXIT_OK if any(r.get("status") in VERDICTS for r in rows) else EXIT_INTERNAL


class Follower:
    def __init__(self, api: PrefectAPI, args: argparse.Namespace, deployment: str) -> None:
        self.api, self.args, self.deployment = api, args, deployment
        self.quiet = bool(args.json)
        self.seen_tasks: set[str] = set()
        self.log_offset = 0
        self._artifacts: Future[dict[str, Any]] | None = None

    def run(self, deployment_id: str, parameters: dict[str, Any]) -> int:
        started = time.monotonic()
        flow_run = self.api.create_flow_run(deployment_id, parameters, f"deployment {self.deployment}")
        run_id, name = flow_run["id"], flow_run.get("name", "")
        print(f"medic: submitted to {self.deployment} on {self.api.settings.url}: flow run {name} ({run_id})",
              file=sys.stderr, flush=True)
        if not self.quiet:  # the table's imports while the run goes on (this process mostly sleeps), not after it
            threading.Thread(target=_import_renderer, daemon=True, name="medic-import-renderer").start()
        try:
            final = self.follow(flow_run)
        except KeyboardInterrupt:
            self.api.cancel(run_id)
            print(f"medic: flow run {name} ({run_id}) cancelled", file=sys.stderr)
            raise
        return self.finish(final, time.monotonic() - started)

    def follow(self, submitted: dict[str, Any]) -> dict[str, Any]:
        """The run (as submitted) with its final state, once it has one."""
        events = RunEvents(self.api.settings, submitted["id"], submitted.get("created")).start()
        try:
            return self._follow(submitted, events)
        finally:
            events.close()

    def _follow(self, submitted: dict[str, Any], events: RunEvents) -> dict[str, Any]:
        run_id, polls = submitted["id"], 0
        while True:
            streamed = events.live.is_set()  # read before the poll: a change after it comes through the stream
            flow_run = self.api.flow_run(run_id)
            state_type = (flow_run.get("state") or {}).get("type") or flow_run.get("state_type")
            polls += 1
            if state_type in TERMINAL:
                return self.ended(flow_run)
            if not self.quiet and not streamed and polls % STEPS_EVERY == 0:
                self.show_steps(run_id)
            if self.args.verbose:
                self.show_logs(run_id)
            final = self.wait(events, POLL_S if self.args.verbose or not streamed else STREAM_POLL_S)
            if final is not None:  # the server's own event: its validated state is the run's final one
                return self.ended({**submitted, "state": final})

    def ended(self, flow_run: dict[str, Any]) -> dict[str, Any]:
        """The run has ended: its artifacts fetched beside its last steps (and logs), not after them."""
        self._artifacts = in_thread(self.api.artifacts, flow_run["id"], name="medic-fetch-artifacts")
        if not self.quiet:
            self.show_steps(flow_run["id"])
        if self.args.verbose:
            self.show_logs(flow_run["id"])
        return flow_run

    def wait(self, events: RunEvents, seconds: float) -> dict[str, Any] | None:
        """Up to ``seconds``, printing the steps the stream reports; the run's final state as soon as the stream
        reports it, else None."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                kind, event = events.events.get(timeout=left)
            except queue.Empty:
                return None
            if kind == "run":
                return run_state(event)
            if not self.quiet:
                self.print_step(*task_step(event))
        return None

    def show_steps(self, run_id: str) -> None:
        for task in self.api.task_runs(run_id):
            state = task.get("state") or {}
            if state.get("type") in TERMINAL:
                self.print_step(task["id"], str(state.get("name", "?")), str(task.get("name", "?")))

    def print_step(self, task_id: str, state_name: str, task_name: str) -> None:
        if task_id in self.seen_tasks:
            return
        self.seen_tasks.add(task_id)
        step = task_name.rsplit("-", 1)[0]  # Prefect adds a random suffix to the name
        print(f"  {state_name:>9} {step}", file=sys.stderr, flush=True)

    def show_logs(self, run_id: str) -> None:
        logs = self.api.logs(run_id, self.log_offset)
        self.log_offset += len(logs)
        for entry in logs:
            print(f"  | {entry.get('message', '')}", file=sys.stderr, flush=True)

    def finish(self, flow_run: dict[str, Any], followed_s: float) -> int:
        state = flow_run.get("state") or {}
        artifacts = self._artifacts.result() if self._artifacts else self.api.artifacts(flow_run["id"])
        rows = findings_rows(artifacts.get(FINDINGS_KEY))
        report = str((artifacts.get(REPORT_KEY) or {}).get("data") or "")
        if FINDINGS_KEY not in artifacts:
            raise MedicError(f"flow run {flow_run.get('name')} ({flow_run['id']}) of {self.deployment} ended "
                             f"{state.get('name') or state.get('type')} without findings: "
                             f"{state.get('message') or 'no message'}")
        code = exit_code(rows)
        if self.args.json:
            print(json.dumps(document(flow_run, self.deployment, rows, report, code, followed_s), indent=2))
        else:
            from rich.console import Console

            from medic.cli.remote_render import print_remote

            print_remote(Console(), flow_run, self.args.playbook, rows, report, followed_s)
        if self.args.report:
            write_report(self.args.report, report)
        return code


def _import_renderer() -> None:
    import rich.console  # noqa: F401

    import medic.cli.remote_render  # noqa: F401


def document(flow_run: dict[str, Any], deployment: str, rows: list[dict[str, str]], report: str, code: int,
             followed_s: float) -> dict[str, Any]:
    state = flow_run.get("state") or {}
    return {"schema": SCHEMA, "flow_run_id": flow_run["id"], "flow_run_name": flow_run.get("name"),
            "deployment": deployment, "parameters": flow_run.get("parameters"),
            "state": state.get("name") or state.get("type"), "message": state.get("message"),
            "exit_code": code, "followed_s": round(followed_s, 3), "findings": rows, "report": report}


def write_report(path: str, markdown: str) -> None:
    from pathlib import Path

    try:
        Path(path).write_text(markdown, encoding="utf-8")
    except OSError as exc:
        print(f"medic: warning: cannot write the report {path}: {exc.strerror or exc}", file=sys.stderr)
        return
    print(f"medic: report written to {path}", file=sys.stderr)
