"""System calls per notification, bare httpx loop against the ``webhook`` channel (``notify.deliver``): a count
that the load of a shared machine does not move, where the rates of ``channels_bench.py`` swing by a factor of
four. Each loop runs under ``strace -f`` (the receiver in a process of its own, not traced); the calls between
two marks, after 100 warm-up notifications, are counted.

    .venv/bin/python bench/channels_syscalls.py [--count 1000] [--tree DIR]   # DIR: another checkout (git archive)
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def inner(mode: str, port: int, count: int) -> None:
    """The traced loop (run by ``main`` under strace)."""
    sys.path.insert(0, str(HERE))
    import channels_bench as cb
    import httpx

    from medic.core import notify
    from medic.plugins.channels.webhook import WebhookChannel, payload

    os.environ["HOOK_SECRET"] = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    os.environ["MEDIC_CHANNEL_ALLOW"] = f"127.0.0.1:{port}"
    url = f"http://127.0.0.1:{port}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        client = httpx.Client(trust_env=False)
        config = {"channels": {"hook": {"type": "webhook", "url": url, "secret": "env:HOOK_SECRET"}}}
        routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
        outbox = Path(tmp) / "outbox.sqlite"

        def one(i: int) -> object:
            if mode == "bare":
                return client.post(url, content=payload(cb._note(i)), headers={"content-type": "application/json"})
            return notify.deliver(routes, cb._note(i), outbox)

        for i in range(100):
            one(i)
        os.write(2, b"MARK-START\n")
        for i in range(count):
            one(i)
        os.write(2, b"MARK-END\n")


def counted(trace: Path) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Calls between the marks: of every thread, and of the sending thread alone (the one writing the marks)."""
    calls: collections.Counter[str] = collections.Counter()
    sender: collections.Counter[str] = collections.Counter()
    tid = None
    for line in trace.read_text(errors="replace").splitlines():
        if 'write(2, "MARK-' in line:
            if tid is not None:
                break
            tid = line.split()[0]
        elif tid is not None and (m := re.match(r"^(\d+)\s+([a-z_0-9]+)\(", line)):
            calls[m.group(2)] += 1
            sender[m.group(2)] += m.group(1) == tid
    return calls, sender


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--tree", help="the root of another checkout to measure (its medic/ imported first)")
    ap.add_argument("--inner", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        return inner(args.inner[0], int(args.inner[1]), args.count)
    env = {**os.environ, "PYTHONPATH": args.tree} if args.tree else dict(os.environ)
    me = Path(args.tree) / "medic" / "bench" / Path(__file__).name if args.tree else Path(__file__)
    code = ("import sys; sys.path.insert(0, sys.argv[1])\nfrom tests.channels.receiver import Receiver, running\n"
            "with running(Receiver('')) as rx:\n    print(rx.port, flush=True)\n    sys.stdin.read()\n")
    rx = subprocess.Popen([sys.executable, "-c", code, str(me.parent.parent)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, env=env)
    assert rx.stdout is not None and rx.stdin is not None
    port = rx.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("bare", "channel"):
                trace = Path(tmp) / f"{mode}.strace"
                subprocess.run(["strace", "-f", "-qq", "-o", str(trace), sys.executable, str(me), "--count",
                                str(args.count), "--inner", mode, port], check=True, env=env)
                calls, sender = counted(trace)
                n = args.count
                print(f"{mode:8s} {sum(calls.values()) / n:5.1f} system calls per notification (sending thread "
                      f"{sum(sender.values()) / n:.1f}): " + ", ".join(
                          f"{k} {v / n:.1f}" for k, v in calls.most_common() if v >= n / 10)
                      + f"; fdatasync per {n}: {calls['fdatasync']} (sending thread {sender['fdatasync']})")
    finally:
        rx.stdin.close()
        rx.wait(timeout=30)


if __name__ == "__main__":
    main()
