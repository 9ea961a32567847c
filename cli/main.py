"""``medic`` entry point: argparse dispatch, one-line errors and documented exit codes.

Exit codes: 0 no ``fail`` finding; 1 at least one ``fail``; 2 usage or validation error; 3 internal error
(an unreachable target, a corrupt bundle, a bug). ``MEDIC_DEBUG=1`` shows tracebacks of unexpected errors.
Commands that run no flow never import Prefect, so they answer fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from medic.core import __version__
from medic.kernel.errors import EXIT_INTERNAL, EXIT_USAGE, MedicError

# medic's own commands: each module defines `register(subparsers)`; its parsers set `func(args) -> int`. Plugins
# add theirs through the hook `register_commands` (hosts from the SSH plugin; backups, runs... from the change one).
CORE_COMMANDS: tuple[str, ...] = ("run", "playbooks", "checks", "plugins", "server", "bundles", "logs")
CORE_COMMANDS += ("service",)  # medic deploy, serve, worker: playbooks as a Prefect service (issue 18)
# command words whose module has another name: their parser alone is built, as for `medic run`, instead of every
# command's and every plugin's (a long-running `medic worker` kept them all in memory: bench/README-fleet.md)
MODULE_OF = dict.fromkeys(("deploy", "serve", "worker", "fleet"), "service")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser(command: str | None = None, *, listing: bool = False) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` one of medic's own, only that command's sub-parser: ``medic run`` then
    imports neither the other commands' modules nor every plugin (their ``register_commands``) to start; with a
    plugin's command, that plugin's only (the plugin index says whose it is). ``listing`` (``medic --help``):
    the plugins' commands as names and help only, from the plugin index, no plugin imported."""
    parser = _Parser(prog="medic", description="Diagnose and fix machines and services with playbooks.",
                     epilog="Exit codes: 0 no check failed, 1 a check failed, 2 usage or validation error, "
                            "3 a target could not be reached or opened, or nothing was checked. "
                            "Also 3: Prefect server down or an internal error; 130: interrupted (Ctrl-C).")
    parser.add_argument("--version", action="version", version=f"medic {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    module = MODULE_OF.get(command or "", command)
    if module in CORE_COMMANDS:
        importlib.import_module(f"medic.cli.{module}").register(sub)
        return parser
    for name in CORE_COMMANDS:
        importlib.import_module(f"medic.cli.{name}").register(sub)
    from medic.cli.plugincommands import add_commands

    add_commands(sub, command, listing=listing)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` when nothing before it is an option (``medic run ...``), else None."""
    return argv[0] if argv and not argv[0].startswith("-") else None


_interrupted = threading.Event()


def _on_sigint(signum: int, frame: object) -> None:
    """First Ctrl-C: stop the run. Any further one is ignored, so the way out cannot be interrupted."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _interrupted.set()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, *, exit_on_interrupt: bool = False) -> int:
    """Run one command; return its exit code. ``exit_on_interrupt`` (the console script): after Ctrl-C, print
    the one line and leave at once with 130, so no other thread prints after it and nothing is joined."""
    _interrupted.clear()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if in_main else None
    try:
        code = _dispatch(argv)
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:
        code = EXIT_INTERNAL
        if not _interrupted.is_set():  # an error caused by the interrupt is the interrupt
            if os.environ.get("MEDIC_DEBUG"):
                import traceback  # here: only a bug's traceback needs it (about 2 ms of every command's start)

                traceback.print_exc()
            from medic.kernel.models import cap_text

            print(f"medic: internal error: {type(exc).__name__}: {cap_text(str(exc))} (set MEDIC_DEBUG=1 for "
                  f"the traceback; please report it)", file=sys.stderr)
    if _interrupted.is_set() or code == 130:
        _leave_interrupted(exit_on_interrupt)
        return 130
    if in_main:  # an in-process caller (a test) gets its own Ctrl-C handling back
        signal.signal(signal.SIGINT, previous)
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words == ["--version"]:  # answered before any command or plugin is imported
        print(f"medic {__version__}")
        return 0
    try:
        parser = build_parser(command_of(words), listing=not words or words[0] in ("-h", "--help"))
        args = parser.parse_args(words)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        code: int = args.func(args)
        return code
    except MedicError as exc:
        if _interrupted.is_set():
            raise KeyboardInterrupt from None
        from medic.kernel.models import cap_text

        print(f"medic: error: {cap_text(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0


def _leave_interrupted(hard: bool) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("medic: interrupted", file=sys.stderr, flush=True)
    if not hard:
        return
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing prints after the line: not a late step, not a thread, not a child
    os.dup2(devnull, 2)
    with contextlib.suppress(Exception):  # what this run started ends with it: probes, programs, Prefect's server
        import psutil

        from medic.core.deadline import kill_children

        kill_children()
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(130)


def entry() -> None:
    code = main(exit_on_interrupt=True)
    from medic.cli.quick_exit import leave_if_requested

    leave_if_requested(code)  # medic run's fast path: no interpreter teardown after its findings
    sys.exit(code)


if __name__ == "__main__":
    entry()
