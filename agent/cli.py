"""``medic-agent``: one command collects a redacted, checksummed diagnostics bundle.

    medic-agent                      same as `medic-agent collect` with the default profile
    medic-agent collect [--profile NAME|FILE] [--output DIR] [--note TEXT] [--app-logs PATH]...
                        [--pseudonymise] [--leak-baseline FILE] [--quiet]
    medic-agent profiles             list packaged profiles
    medic-agent leaks scan BUNDLE [--leak-baseline FILE]     list a bundle's leak-scan findings (masked)
    medic-agent leaks baseline BUNDLE -o FILE                write its findings as a baseline to review
    medic-agent enroll URL --code CODE (--pin sha256:HEX | --ca FILE)   enroll with a collector
    medic-agent upload BUNDLE [--keep] [--json]              upload; deleted only after a verified receipt
    medic-agent collect --upload URL [--code CODE --pin sha256:HEX]    enroll if needed, collect, upload
    medic-agent status [--json]                              enrollment and unfinished uploads

Exit codes: 0 bundle written (or no finding); 2 usage, invalid profile or baseline; 3 internal error; 4 the
leak scan found a secret: the bundle is kept here as ``*.blocked`` and must not be sent. A finding that is
not a secret passes once it is in a reviewed leak baseline (``--leak-baseline``); the scan cannot be skipped.
5 the upload failed or its receipt did not verify: the bundle is kept; 6 not enrolled, enrollment refused or the
token revoked; 7 the collector's certificate does not match the pin or the CA (nothing was sent).
"""

from __future__ import annotations

import os
import sys

from medic.agent import __version__, uplinkcli
from medic.agent.uploadargs import upload_args
from medic.kernel.errors import EXIT_INTERNAL, EXIT_USAGE, MedicError

TYPE_CHECKING = False  # argparse is imported only for a line upload_args does not read (a restarted upload: never)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

EXIT_BLOCKED = 4


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="medic-agent", description="Collect a diagnostics bundle for support.",
                                     epilog="Exit codes: 0 written (or uploaded), 2 usage, 3 internal error, 4 "
                                            "blocked by the leak scan, 5 upload failed (bundle kept), 6 not "
                                            "enrolled or enrollment refused, 7 collector certificate not the "
                                            "pinned one.")
    parser.add_argument("--version", action="version", version=f"medic-agent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    collect = sub.add_parser("collect", help="collect a bundle (the default command)")
    _collect_options(collect)
    sub.add_parser("profiles", help="list packaged collection profiles")
    _leaks_parser(sub.add_parser("leaks", help="leak-scan findings of a bundle, and baselines of reviewed ones"))
    uplinkcli.add_parsers(sub)
    _collect_options(parser)  # `medic-agent --note "..."` works without the word collect
    return parser


def _collect_options(p: argparse.ArgumentParser) -> None:
    from pathlib import Path  # the parser's only: a restarted upload reads its line without it (uploadargs.py)

    p.add_argument("--profile", default="default", help="packaged profile name or a profile YAML file")
    p.add_argument("--output", type=Path, default=Path.cwd(), help="directory for the bundle (default: here)")
    p.add_argument("--note", default="", help="what you did and what you saw (goes into the bundle)")
    p.add_argument("--app-logs", action="append", default=[], metavar="PATH_OR_GLOB",
                   help="an application's log file(s) to include (repeatable)")
    p.add_argument("--pseudonymise", action="store_true",
                   help="replace host, user names, e-mail and IP addresses by pseudonyms (mapping kept here)")
    p.add_argument("--leak-baseline", type=Path, metavar="FILE",
                   help="findings reviewed as not secret (written by `medic-agent leaks baseline`): they pass")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    uplinkcli.collect_upload_options(p)
    uplinkcli.transfer_options(p)


def _leaks_parser(p: argparse.ArgumentParser) -> None:
    from pathlib import Path

    sub = p.add_subparsers(dest="leaks_command", metavar="ACTION", required=True)
    scan = sub.add_parser("scan", help="list the findings of a bundle (or a blocked bundle), values masked")
    scan.add_argument("bundle", type=Path)
    scan.add_argument("--leak-baseline", type=Path, metavar="FILE", help="findings that pass")
    base = sub.add_parser("baseline", help="write a bundle's findings as a leak baseline, to review and pass")
    base.add_argument("bundle", type=Path)
    base.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")


def main(argv: Sequence[str] | None = None) -> int:
    line = sys.argv[1:] if argv is None else argv
    args: Any = upload_args(line) or build_parser().parse_args(line)  # a plain `upload` line: no argparse at all
    try:
        if args.command == "profiles":
            return _profiles()
        if args.command == "leaks":
            from medic.agent.leakcli import leaks_command

            return leaks_command(args)
        if args.command in ("enroll", "upload", "status"):
            return uplinkcli.run(args)
        return _collect(args)
    except MedicError as exc:
        print(f"medic-agent: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("medic-agent: interrupted; nothing was written", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"medic-agent: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _profiles() -> int:
    from medic.agent.profile import load_profile, packaged_names

    for name in packaged_names():
        print(f"{name:<12} {load_profile(name).description}")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from medic.agent.pipeline import collect_bundle
    from medic.agent.profile import load_profile

    profile = load_profile(args.profile)
    if args.upload:  # enroll (or find the enrollment) before spending minutes collecting
        uplinkcli.ensure_enrolled(args)
    baseline = None
    if args.leak_baseline is not None:
        from medic.agent.leakbaseline import load_baseline

        baseline = load_baseline(args.leak_baseline)
    if not args.output.is_dir():
        print(f"medic-agent: error: output directory {args.output} does not exist", file=sys.stderr)
        return EXIT_USAGE

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr, flush=True)

    outcome = collect_bundle(profile, args.output, note=args.note, app_logs=args.app_logs,
                             pseudonymise=args.pseudonymise, leak_baseline=baseline, progress=progress)
    c = outcome.collected
    print(f"collected {len(c.results)} probes, {len(c.files)} logs, {len(c.commands)} commands in "
          f"{c.finished - c.started:.1f} s; {len(c.skipped)} item(s) skipped (listed in the manifest)",
          file=sys.stderr)
    for pattern in c.unmatched:
        print(f"medic-agent: warning: no file matched {pattern!r}", file=sys.stderr)
    redacted = sum(outcome.redaction.values())
    if redacted:
        print(f"redacted {redacted} value(s): " + ", ".join(f"{k} {v}" for k, v in outcome.redaction.items()),
              file=sys.stderr)
    if outcome.mapping_path:
        print(f"pseudonym mapping (keep it, never send it): {outcome.mapping_path}", file=sys.stderr)
    if outcome.allowed:
        print(f"leak baseline {args.leak_baseline}: {len(outcome.allowed)} reviewed finding(s) passed",
              file=sys.stderr)
    if outcome.blocked:
        from medic.agent.leakcli import print_blocked

        print_blocked(outcome.leaks, outcome.path)
        return EXIT_BLOCKED
    if args.upload:
        print(f"collected {outcome.path} ({_size(outcome.size)})", file=sys.stderr)
        return uplinkcli.upload_bundle(args, outcome.path)
    print(f"{outcome.path} ({_size(outcome.size)})")
    return 0


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def entry() -> None:
    os.environ.setdefault("LC_ALL", "C.UTF-8")
    sys.exit(main())


if __name__ == "__main__":
    entry()
