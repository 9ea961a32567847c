"""``medic logs scan FILE``: how many lines of a log match a pattern, and its most repeated messages, now.

The ``log_scan`` probe that the ``logs.error_rate`` check reads, run on this machine without a playbook, engine,
plugins or history: the first look a support engineer takes at a log (what ``grep -ciE`` answers, with the matching
messages folded into counts: numbers, ids, addresses and times replaced). It imports the probe and nothing of the
engine, so it answers in a fraction of ``medic run``'s start-up (bench/README-logs.md). A playbook step with
``logs.error_rate`` is the way to keep the finding in the run history and reports.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from medic.kernel.errors import MedicError, UsageError

DEFAULT_PATTERN = r"error|exception|fatal|critical|traceback|panic|segfault"  # logsearch's (not imported for --help)


# C0 and C1 control characters (tab kept) shown as \xNN: a log is untrusted text, and an escape sequence in it
# must not drive the terminal that prints it (the JSON output escapes them itself)
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c != 0x09}


def _shown(text: str) -> str:
    return text.translate(_CONTROLS)


def register(sub: Any) -> None:
    p = sub.add_parser("logs", help="look into a log on this machine without a playbook")
    psub = p.add_subparsers(dest="logs_command", metavar="SUBCOMMAND", required=True)
    scan = psub.add_parser(
        "scan", help="count the lines matching a pattern, with the top repeated messages",
        description="Count the lines of a log (plain or .gz) that match a pattern and show the most repeated "
                    "matching messages (numbers, ids, addresses and times folded). Exit codes: 0 scanned, 1 "
                    "--fail-count reached, 2 usage error (no such file, a bad pattern).")
    scan.add_argument("path", metavar="FILE", help="the log file (plain or .gz)")
    scan.add_argument("--pattern", "-e", default=DEFAULT_PATTERN, metavar="REGEX",
                      help="regular expression a line must contain (Python syntax; default: error words)")
    scan.add_argument("--case-sensitive", action="store_true", help="match case (default: ignore it)")
    window = scan.add_mutually_exclusive_group()
    window.add_argument("--lines", "-n", type=_count, default=0, metavar="N",
                        help="only the last N lines (default 0: the whole file)")
    window.add_argument("--since", type=_minutes, default=0.0, metavar="MINUTES",
                        help="only lines timestamped in the last MINUTES minutes")
    scan.add_argument("--rotated", action="store_true",
                      help="with --since or the whole file: also rotated files (FILE.1, FILE.2.gz...), oldest first")
    scan.add_argument("--top", type=_count, default=5, metavar="N", help="repeated messages to show (default 5)")
    scan.add_argument("--extract", metavar="REGEX", default="",
                      help="also count the values of this expression's group 1 in matching lines")
    scan.add_argument("--fail-count", type=_count, metavar="N",
                      help="exit 1 when N or more lines match (as the logs.error_rate check's fail_count)")
    scan.add_argument("--target", "-t", metavar="TARGET",
                      help="read the log on this host instead: ssh://[user@]host[:port] or an inventory name "
                           "(the same probe runs there; default: this machine)")
    scan.add_argument("--inventory", metavar="FILE", help="inventory of SSH hosts for --target (default: config key "
                                                          "inventory)")
    scan.add_argument("--json", action="store_true", help="print the probe's result as one JSON document")
    scan.set_defaults(func=cmd_scan)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:  # also NaN
        raise argparse.ArgumentTypeError(f"expected minutes > 0, got {text!r}")
    return value


def cmd_scan(args: argparse.Namespace) -> int:
    params = {"path": args.path, "pattern": args.pattern, "ignore_case": not args.case_sensitive,
              "lines": args.lines, "window_min": args.since, "include_rotated": args.rotated, "top": args.top,
              "extract": args.extract}
    if args.target not in (None, "local", "localhost"):
        result = _on_target(args.target, args.inventory, params)
    else:
        result = _here(params)
    failed = args.fail_count is not None and result["matches"] >= args.fail_count
    if args.json:
        import json  # here: only --json needs it

        print(json.dumps({**result, "failed": failed}, indent=2))
    else:
        _show(result, args, failed)
    return 1 if failed else 0


def _here(params: dict[str, Any]) -> dict[str, Any]:
    """The scan in this process: the probe's function, no session, plugins or target (the fast path)."""
    from medic.probes.logsearch import scan_log  # here: `medic logs --help` imports no probe

    path = params["path"]
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory; expected a log file")
    if os.path.exists(path) and not os.path.isfile(path):  # a FIFO would wait for a writer forever
        raise UsageError(f"{path}: not a regular file (a pipe or a device); expected a log file")
    try:
        return scan_log(**params)
    except MedicError as exc:  # no such file; no grep for a pattern that needs one
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # a bad pattern, no timestamp for --since
        raise UsageError(str(exc)) from None
    except OSError as exc:  # unreadable
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


def _on_target(spec: str, inventory: str | None, params: dict[str, Any]) -> dict[str, Any]:
    """The same probe on another target (an SSH host), through the session's targets: an unreachable host is
    one line and exit 3, a missing log or a bad pattern there exit 2, each naming the host."""
    from medic.core.session import Session
    from medic.kernel.models import ProbeCall

    targets = Session().open_targets([spec], {"inventory": inventory})
    try:
        if len(targets) != 1:
            raise UsageError(f"--target {spec!r} names {len(targets)} hosts; medic logs scan reads one log on one "
                             "host (medic run with logs.error_rate runs on many)")
        call = ProbeCall.make("log_scan", params)
        result = targets[0].collect([call])[call]
    finally:
        for target in targets:
            target.close()
    if not result.ok:
        raise UsageError(f"{targets[0].name}: {result.error}")
    return dict(result.data)


def _show(r: dict[str, Any], args: argparse.Namespace, failed: bool) -> None:
    from medic.probes.logsearch import per_minute, scope  # (imported already by the scan here)

    out = sys.stdout
    pct = 100.0 * r["matches"] / r["lines_scanned"] if r["lines_scanned"] else 0.0
    rate = "" if (per_min := per_minute(r)) is None else f", {per_min:.2f} per minute"
    times = (f" ({_when(r['first_time'])} to {_when(r['last_time'])})" if r["first_time"] and r["last_time"] else "")
    print(f"{_shown(r['path'])}: {r['matches']} matching line(s) in {scope(r)} ({pct:.2f} %){rate}{times}", file=out)
    case = "" if args.case_sensitive else ", case-insensitive"
    print(f"pattern: {_shown(r['pattern'])}{case}", file=out)
    if r["top"]:
        print("top repeated messages" + (" (approximate: too many distinct ones)" if r["approximate"] else "")
              + ":", file=out)
        for t in r["top"]:
            print(f"  {t['count']:>8}x {_shown(t['message'][:200])}", file=out)
    if r["top_values"]:
        print(f"top values of {_shown(args.extract)}:", file=out)
        for v in r["top_values"]:
            print(f"  {v['count']:>8}x {_shown(v['value'][:200])}", file=out)
    if r["samples"]:
        print("last matching lines:", file=out)
        for line in r["samples"][-3:]:
            print(f"  {_shown(line[:200])}", file=out)
    if failed:
        print(f"medic: {r['matches']} matching lines reach --fail-count {args.fail_count}", file=sys.stderr)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
