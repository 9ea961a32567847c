"""``medic-agent enroll | upload | status`` and ``collect --upload``: the commands that talk to a collector.

Only json and socket are imported here (argparse is cli.py's, and only when it reads the line); the HTTP, TLS and
signature code (``medic.agent.uplink``) is imported when one of these commands runs, so ``medic-agent collect``
alone never loads it (tests/agent/uplink/test_lazy.py).
"""

from __future__ import annotations

import json
import os
import socket
import sys

from medic.agent.uploadargs import DEFAULT_CHUNK, DEFAULT_RETRIES

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from medic.agent.uplink.state import StrPath


def add_parsers(sub: Any) -> None:
    enroll = sub.add_parser("enroll", help="enroll this machine with a collector (single-use code)")
    enroll.add_argument("url", metavar="URL", help="the collector, https://HOST:PORT")
    enroll.add_argument("--code", required=True, help="the single-use code the support engineer gave you")
    enroll.add_argument("--name", help="this agent's name on the collector (default: the host name)")
    _identity_options(enroll)
    upload = sub.add_parser("upload", help="upload a bundle; deleted here only after a verified receipt")
    upload.add_argument("bundle", metavar="BUNDLE")  # a str, as uploadargs.py reads it: os.path, never pathlib
    upload.add_argument("--keep", action="store_true", help="keep the local bundle even after a valid receipt")
    transfer_options(upload)
    status = sub.add_parser("status", help="enrollment and unfinished uploads")
    status.add_argument("--json", action="store_true", help="one JSON document")


def _identity_options(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group()
    who.add_argument("--pin", metavar="sha256:HEX", help="the sha256 of the collector's certificate (DER)")
    who.add_argument("--ca", metavar="FILE", help="a CA certificate (PEM) the collector's certificate chains to")


def transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON line per event on stdout, no progress bar")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, metavar="BYTES",
                   help=f"bytes per PATCH request (default {DEFAULT_CHUNK >> 20} MiB)")
    p.add_argument("--retries", type=int, default=DEFAULT_RETRIES, metavar="N",
                   help=f"retries in a row without progress before giving up (default {DEFAULT_RETRIES})")


def collect_upload_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--upload", metavar="URL", help="after collecting, upload the bundle to this collector")
    p.add_argument("--code", help="with --upload: enroll first with this single-use code")
    _identity_options(p)
    p.add_argument("--keep", action="store_true", help="with --upload: keep the bundle after a valid receipt")


def run(args: argparse.Namespace) -> int:
    if args.command == "enroll":
        return _enroll(args)
    if args.command == "status":
        return _status(args)
    return upload_bundle(args, args.bundle)


def _enroll(args: argparse.Namespace, out: Any = None) -> int:
    from medic.agent.uplink.enroll import enroll
    from medic.agent.uplink.state import save_enrollment
    from medic.agent.uplink.transport import Server, parse_pin

    server = Server(args.url, pin=parse_pin(args.pin) if args.pin else None, ca=args.ca)
    enrollment = enroll(server, args.code, args.name or socket.gethostname())
    path = save_enrollment(enrollment)
    print(f"enrolled with {enrollment.url} as agent {enrollment.agent_id} (receipt key {enrollment.key_id}); "
          f"saved in {path}", file=out or sys.stdout)
    return 0


def ensure_enrolled(args: argparse.Namespace) -> None:
    """For ``collect --upload``: enroll with --code when not already enrolled with that URL."""
    from medic.agent.uplink.errors import EnrollmentError
    from medic.agent.uplink.state import load_enrollment

    try:
        current = load_enrollment()
    except EnrollmentError:
        current = None
    if current is not None and current.url.rstrip("/") == args.upload.rstrip("/"):  # a code is single-use
        return
    if not args.code:
        raise EnrollmentError(f"not enrolled with {args.upload}: add --code CODE --pin sha256:HEX")
    args.url, args.name = args.upload, None
    _enroll(args, out=sys.stderr)  # stdout carries only the case id


def upload_bundle(args: argparse.Namespace, bundle: StrPath) -> int:
    from medic.agent.uplink.progress import Progress
    from medic.agent.uplink.state import load_enrollment
    from medic.agent.uplink.tus import Retry
    from medic.agent.uplink.upload import deliver
    from medic.kernel.errors import MedicError

    if args.chunk_size < 1 or args.retries < 0:
        print("medic-agent: error: --chunk-size must be >= 1 and --retries >= 0", file=sys.stderr)
        return 2
    progress = Progress(json_lines=args.json)
    try:
        delivered = deliver(bundle, load_enrollment(), progress, keep=args.keep, chunk_size=args.chunk_size,
                            retry=Retry(attempts=args.retries))
    except MedicError as exc:
        progress.done()
        kept = f"; the bundle is kept at {bundle}" if os.path.exists(bundle) else ""
        progress.event("error", error=str(exc), exit_code=exc.exit_code, kept=str(bundle) if kept else None)
        print(f"medic-agent: error: {exc}{kept}", file=sys.stderr)
        return exc.exit_code
    receipt = delivered.receipt
    where = "deleted here" if delivered.deleted else f"kept at {bundle}"
    if args.json:
        progress.event("done", case_id=receipt["case_id"], upload_id=receipt["upload_id"], deleted=delivered.deleted)
    else:
        print(f"uploaded {os.path.basename(bundle)}: case {receipt['case_id']}, receipt verified (key "
              f"{receipt['key_id']}); bundle {where}", file=sys.stderr)
        print(receipt["case_id"])
    return 0


def _status(args: argparse.Namespace) -> int:
    from medic.agent.uplink.errors import EnrollmentError
    from medic.agent.uplink.state import PendingUploads, load_enrollment, state_dir

    reason = ""
    try:
        enrollment: dict[str, Any] | None = load_enrollment().public()
    except EnrollmentError as exc:
        enrollment, reason = None, str(exc)
    pending = PendingUploads().all()
    if args.json:
        print(json.dumps({"state_dir": str(state_dir()), "enrollment": enrollment, "pending": pending}, indent=2))
        return 0
    if enrollment is None:
        print(f"not enrolled: {reason}")
    else:
        check = f"pin sha256:{enrollment['pin']}" if enrollment["pin"] else f"CA {enrollment['ca']}"
        print(f"enrolled with {enrollment['url']} as agent {enrollment['agent_id']} ({check}, receipt key "
              f"{enrollment['key_id']})")
    print(f"{len(pending)} unfinished upload(s)" + (":" if pending else ""))
    for record in pending:
        print(f"  {record.get('path')} ({record.get('size')} bytes) -> {record.get('location')}")
    return 0
