"""``medic`` entry point: argparse dispatch, one-line errors and documented exit codes.

Exit codes: 0 no ``fail`` finding; 1 at least one ``fail``; 2 usage or validation error; 3 internal error
(an unreachable target, a corrupt bundle, a bug). ``MEDIC_DEBUG=1`` shows tracebacks of unexpected errors.
Commands that run no flow never import Prefect, so they answer fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from medic.core import __version__, pluginmanager
from medic.kernel.errors import EXIT_INTERNAL, EXIT_USAGE, MedicError

# medic's own commands: each module defines `register(subparsers)`; its parsers set `func(args) -> int`. Plugins
# add theirs through the hook `register_commands` (hosts from the SSH plugin; backups, runs... from the change one).
CORE_COMMANDS = ("run", "playbooks", "checks", "plugins", "server", "bundles")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="medic", description="Diagnose and fix machines and services with playbooks.",
                     epilog="Exit codes: 0 no check failed, 1 a check failed, 2 usage or validation error, "
                            "3 a target could not be reached or opened, or an internal error.")
    parser.add_argument("--version", action="version", version=f"medic {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in CORE_COMMANDS:
        importlib.import_module(f"medic.cli.{name}").register(sub)
    pluginmanager.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        code: int = args.func(args)
        return code
    except MedicError as exc:
        print(f"medic: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("medic: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("MEDIC_DEBUG"):
            traceback.print_exc()
        print(f"medic: internal error: {type(exc).__name__}: {exc} (set MEDIC_DEBUG=1 for the traceback; "
              f"please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
