"""Terminal output of ``medic run``: live progress while steps run, then findings, probable cause, next steps."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from medic.core.engine import RunResult
from medic.core.hookspecs import hookimpl
from medic.core.report import next_steps, probable_cause, unreachable
from medic.kernel.models import Status

STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.ERROR: "magenta",
         Status.SKIPPED: "dim"}


class Progress:
    """A plugin registered in-process by the CLI: prints each finished step while the run goes on."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()
        self.status: Any = None

    def start(self, what: str) -> None:
        self.status = self.console.status(what, spinner="dots")
        self.status.start()

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None

    @hookimpl
    def before_step(self, step: Any, target: Any, run_id: str) -> None:
        if self.status is not None:
            self.status.update(f"{target.name}: {step.label}")

    @hookimpl
    def after_step(self, step: Any, target: Any, result: Any, run_id: str) -> None:
        if step.children:
            return
        with self.lock:
            line = Text(f"  {result.status!s:>7} ", style=STYLE.get(result.status, ""))
            line.append(f"{target.name}: {result.title or step.id} ({result.duration_s * 1000:.0f} ms)")
            self.console.print(line, highlight=False)


def print_run(console: Console, run: RunResult) -> None:
    wall = "" if run.wall_s is None else f", wall {run.wall_s:.1f} s"
    table = Table(title=f"{run.playbook}: {run.status} (engine {run.duration_s:.1f} s{wall}, run {run.run_id})",
                  show_lines=False, expand=False)
    table.add_column("Status")
    table.add_column("Check")
    table.add_column("Target")
    table.add_column("Summary", overflow="fold")
    for f in run.findings():
        table.add_row(Text(str(f.status), style=STYLE[f.status]), f.check, f.target, f.summary)
    console.print(table)
    console.print(summary_line(run), highlight=False)
    down = unreachable(run)
    if down:
        console.print(Text.assemble(("Unreachable: ", "bold magenta"), ", ".join(down)))
    cause = probable_cause(run)
    if cause:
        console.print(Text.assemble(("Probable cause: ", "bold"), f"{cause.check} on {cause.target}: ",
                                    (cause.summary, STYLE[cause.status])))
    elif run.checked:
        console.print(Text("No problem found: every check passed.", style="green"))
    steps = next_steps(run)
    if steps:
        console.print(Text("Next steps:", style="bold"))
        for i, s in enumerate(steps, 1):
            console.print(f"  {i}. {s}", highlight=False)


def summary_line(run: RunResult) -> str:
    """The counts; a run where no check gave a verdict says so (it is not a success: exit 3)."""
    c = run.counts()
    line = f"{c['fail']} fail, {c['warn']} warn, {c['error']} error, {c['pass']} pass, {c['skipped']} skipped"
    if run.checked:
        return line
    why = f"{c['error']} error(s), no check gave a result" if c["error"] else "no check ran"
    return f"{line}: nothing was checked ({why})"
