"""``medic run PLAYBOOK``: run a playbook on targets and report findings."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from medic.kernel.errors import UsageError

if TYPE_CHECKING:
    from medic.core.engine import RunResult
    from medic.core.session import Session

ENGINES = ("prefect", "inline")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run a playbook (by name or path) on targets",
                       description="Run a playbook. Exit codes: 0 no check failed, 1 a check failed, 2 usage or "
                                   "validation error, 3 a target could not be reached or opened, or nothing was "
                                   "checked. Also 3: Prefect server down or an internal error; 130: interrupted.")
    p.add_argument("playbook", metavar="PLAYBOOK", help="name (medic playbooks list) or path to a YAML file")
    p.add_argument("--target", "-t", action="append", default=[], metavar="TARGET",
                   help="local, ssh://[user@]host[:port], bundle:PATH or inventory names (repeatable, "
                        "comma-separated); default: the playbook's targets")
    p.add_argument("--inventory", metavar="FILE",
                   help="inventory of SSH hosts and groups (default: config key inventory); no --target: all")
    p.add_argument("--limit", metavar="PATTERN",
                   help="only hosts or groups matching these comma-separated shell patterns; !PATTERN excludes")
    p.add_argument("--input", "-i", action="append", default=[], metavar="KEY=VALUE", help="playbook input")
    p.add_argument("--json", action="store_true", help="print one JSON document (schema medic.run/1)")
    p.add_argument("--report", metavar="FILE.md", help="write the fault analysis report here: HTML when the name "
                                                        "ends in .html or .htm, else Markdown")
    p.add_argument("--notify", action="append", default=[], metavar="CHANNEL[:ARG][@EVENT,...]",
                   help="tell a channel at the end, e.g. console or file:/path/events.jsonl (repeatable); "
                        "@run.started,step.failed,run.finished: these events instead, as they happen")
    p.add_argument("--engine", choices=ENGINES, default=os.environ.get("MEDIC_ENGINE", "prefect"),
                   help="prefect (default): each step a Prefect task; inline: in-process, no Prefect")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="show Prefect's own log lines on the terminal (default: none)")
    p.add_argument("--case", metavar="ID", help="attach the run to this open case (medic cases list)")
    p.add_argument("--check", action="store_true",
                   help="plan mode: show what each action would change (diffs, commands) and change nothing")
    from medic.cli.remote_run import add_option

    add_option(p)
    p.set_defaults(func=cmd_run)


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--input {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def cmd_run(args: argparse.Namespace) -> int:
    if args.engine not in ENGINES:  # argparse checks --engine, not the MEDIC_ENGINE default
        raise UsageError(f"engine {args.engine!r} (MEDIC_ENGINE): expected one of {', '.join(ENGINES)}")
    if args.report:  # medic.core.history loads the engine: not for the fast path without --report
        from medic.core.history import check_writable

        check_writable("--report", args.report)
    submitted = fast_path(args)  # a served deployment on PREFECT_API_URL runs it (medic.cli.remote_run)
    if submitted is not None:
        return submitted
    return run_here(args)


def run_here(args: argparse.Namespace) -> int:
    # imported only for a run in this process: the fast path (submit and follow) needs none of the engine
    from medic.core import history
    from medic.core.config import state_dir
    from medic.core.session import Session
    from medic.plugins.channels import runnotify

    warm_up = warm_up_prefect(args.verbose) if args.engine == "prefect" else None
    progress = None if args.json else _progress()  # --json shows nothing else: no rich to import
    session = Session(extra_plugins=[("cli-progress", progress)] if progress else [])
    runnotify.checked_config_channels(session, args.notify)  # before anything runs
    case_link(session, args.case)  # an unknown case is refused before the run, not after it
    playbook = session.load_playbook(args.playbook)
    channels = runnotify.run_channels(session, playbook, args.notify)
    inputs = playbook.bind_inputs(parse_inputs(args.input))
    specs = args.target or (["all"] if args.inventory or args.limit else playbook.targets)
    targets = session.open_targets(specs, {"inventory": args.inventory, "limit": args.limit})
    if not targets:
        raise UsageError(f"no target left to run on (--limit {args.limit!r} matched none of "
                         f"{', '.join(specs)})")
    events = runnotify.start_events(session, channels, playbook.name)
    try:
        if args.engine == "prefect":
            from medic.flows.server_check import check_api_reachable

            check_api_reachable()
        if progress:
            progress.start(f"running {playbook.name}")
        try:
            if warm_up is not None:
                warm_up.join()
            options = {"check_mode": args.check, "state_dir": str(state_dir(session.config))}
            run = execute(session, playbook, targets, inputs, args.engine, options)
            run.wall_s = wall_time_s()
        finally:
            if progress:
                progress.stop()
    finally:
        for t in targets:
            t.close()
    text = history.document(run)  # serialised once: the history file and --json are the same text
    saved = history.save(run, state_dir(session.config), text)
    if saved is not None:
        print(f"medic: warning: {saved}", file=sys.stderr)
    from medic.plugins.kb.suggest import run_citations

    articles = run_citations(run, state_dir(session.config))  # published KB articles for the next steps
    show_run(args, run, text, articles)
    if args.report:  # after the results are shown: a failure here loses nothing
        from medic.plugins.reports.write import write_run_report

        print(write_run_report(run, args.report, state_dir(session.config), articles), file=sys.stderr)
    case_link(session, args.case, text, args.report)
    for problem in runnotify.finish(session, events, run, channels):
        print(f"medic: warning: {problem}", file=sys.stderr)
    return run.exit_code


def show_run(args: argparse.Namespace, run: RunResult, text: str, articles: list[dict[str, Any]]) -> None:
    if args.json:
        print(text)
        return
    from rich.console import Console

    from medic.cli.render import print_run
    from medic.plugins.kb.suggest import citation_lines

    print_run(Console(), run)
    if articles:
        print("\n".join(["Knowledge base:", *citation_lines(articles)]))
    if args.check:
        from medic.plugins.change.plan import plan_lines

        print("\n".join(plan_lines(run)))


def case_link(session: Session, case_id: str | None, document: str | None = None, report: str | None = None
              ) -> None:
    """``--case ID``: without a document, refuse an unknown or finished case; with one, attach the run to it."""
    if not case_id:
        return
    from medic.plugins.cases import attach

    if document is None:
        attach.check_case(session.config, case_id)
    else:
        print(attach.attach_run(session.config, case_id, json.loads(document), report), file=sys.stderr)


def fast_path(args: argparse.Namespace) -> int | None:
    from medic.cli.remote_run import try_fast_path

    return try_fast_path(args)


def warm_up_prefect(verbose: bool) -> threading.Thread:
    from medic.flows.prefect_env import start_in_background

    # Prefect's logs (retries, crashes, their tracebacks) are not the user's business unless asked for
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    return start_in_background()


def _progress() -> Any:
    from rich.console import Console

    from medic.cli.render import Progress

    return Progress(Console(stderr=True))


def wall_time_s() -> float:
    """Seconds since this process started: Python's start, imports, Prefect's server start and the run."""
    try:  # Linux: the start the kernel keeps (what psutil reads), without importing psutil (about 5 ms)
        with open("/proc/self/stat", "rb") as fh:
            ticks = int(fh.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/stat", "rb") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith(b"btime "))
        started = boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        import psutil

        started = psutil.Process().create_time()
    return max(0.0, time.time() - started)


def execute(session: Session, playbook: Any, targets: list[Any], inputs: dict[str, Any], engine: str,
            options: dict[str, Any] | None = None) -> RunResult:
    from medic.core.engine import Engine

    if engine == "inline":
        return Engine(session.registry, session.hooks).run(playbook, targets, inputs, options)
    # importing Prefect takes seconds: collect the targets' data meanwhile (the flow's steps then read the cache)
    threading.Thread(target=Engine(session.registry).prefetch, args=(playbook, targets, inputs),
                     daemon=True, name="medic-prefetch").start()
    from medic.flows.runner import run_with_prefect
    from medic.flows.server_check import server_down

    try:
        return run_with_prefect(session, playbook, targets, inputs, options)
    except RuntimeError as exc:  # the server went away after the check before the run
        if "Failed to reach API" not in str(exc):
            raise
        raise server_down(os.environ.get("PREFECT_API_URL", ""), "it stopped answering") from None
