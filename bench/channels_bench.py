"""Notifications per second to a loopback receiver: medic's ``webhook`` channel (Standard Webhooks signing, SSRF
guard, durable SQLite outbox, one ``notify.deliver`` per notification as a run does) beside a minimal httpx loop
posting the same JSON, in the same run; then an outage drill: N notifications queued while the receiver is down,
drained once it is back, counted for loss and duplicates.

    .venv/bin/python bench/channels_bench.py [--count 500] [--repeat 3] [--drain 10000] [--drain-workers 8] [--layers]
        [--receiver thread|process] [--block N]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' real receiver

from medic.core import notify
from medic.core.channel import Notification
from medic.core.outbox import Outbox
from medic.plugins.channels import drain as drain_mod
from medic.plugins.channels import http
from medic.plugins.channels.drain import drain
from medic.plugins.channels.webhook import WebhookChannel, payload
from tests.channels.receiver import Receiver, running

ROOT = Path(__file__).resolve().parent.parent


def _note(i: int) -> Notification:
    return Notification("run.finished", f"medic triage (r{i})", "fail", "1 fail, 0 warn", {"run_id": f"r{i}"})


# notifications per second over the loop; median seconds of one notification; CPU seconds per notification (the
# process); CPU seconds per notification of the sending thread alone
Timed = tuple[float, float, float, float]


def _timed(count: int, one: Callable[[int], object]) -> Timed:
    """The loop's rate, the median time of one notification and the CPU time per notification (this process:
    sender and receiver): on a machine other work loads, a burst of preemption moves the rate a lot, the median
    per notification less and the CPU time hardly."""
    each = []
    started, cpu, mine = time.perf_counter(), time.process_time(), time.thread_time()
    for i in range(count):
        t0 = time.perf_counter()
        one(i)
        each.append(time.perf_counter() - t0)
    return (count / (time.perf_counter() - started), statistics.median(each),
            (time.process_time() - cpu) / count, (time.thread_time() - mine) / count)


def _timed_blocks(count: int, block: int, sides: list[Callable[[int], object]]) -> list[Timed]:
    """``count`` notifications of each side, the sides taking turns ``block`` at a time (``--block``): a burst of
    load that lasts a second hits both sides of a round, where whole-round turns leave it to one."""
    wall, cpu, mine = [0.0] * len(sides), [0.0] * len(sides), [0.0] * len(sides)
    each: list[list[float]] = [[] for _ in sides]
    for start in range(0, count, block):
        for k, one in enumerate(sides):
            t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
            for i in range(start, min(start + block, count)):
                t = time.perf_counter()
                one(i)
                each[k].append(time.perf_counter() - t)
            wall[k] += time.perf_counter() - t0
            cpu[k] += time.process_time() - c0
            mine[k] += time.thread_time() - m0
    return [(count / wall[k], statistics.median(each[k]), cpu[k] / count, mine[k] / count) for k in range(len(sides))]


def bare(url: str, count: int) -> Timed:
    with httpx.Client(trust_env=False) as client:
        return _timed(count, lambda i: client.post(url, content=payload(_note(i)),
                                                   headers={"content-type": "application/json"}))


def channel(routes: list[notify.Route], outbox: Path, count: int) -> Timed:
    def one(i: int) -> None:
        problems = notify.deliver(routes, _note(i), outbox)
        assert not problems, problems

    return _timed(count, one)


def layers(url: str, routes: list[notify.Route], outbox: Path, count: int, repeat: int) -> None:
    """CPU of the sending thread per notification as each layer is added: the webhook's headers, the guarded
    client, the channel's secret and signature, the outbox (``notify.deliver``)."""
    headers = {"content-type": "application/json", "webhook-id": "msg_x", "webhook-timestamp": "1",
               "webhook-signature": "v1," + "a" * 44, "user-agent": "medic-webhook/1"}
    raw, guarded, hook = httpx.Client(trust_env=False), http.GuardedClient(), WebhookChannel()
    steps: dict[str, Callable[[int], object]] = {
        "bare httpx": lambda i: raw.post(url, content=payload(_note(i)), headers={"content-type": "application/json"}),
        "+ webhook headers": lambda i: raw.post(url, content=payload(_note(i)), headers=headers),
        "+ guarded client": lambda i: guarded.post(url, payload(_note(i)), headers),
        "+ secret, signature": lambda i: hook.send(_note(i), routes[0].options),
        "+ outbox": lambda i: notify.deliver(routes, _note(i), outbox),
    }
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, one in steps.items():
            cpu[name].append(_timed(count, one)[3])
    for name, values in cpu.items():
        print(f"  {name:20s} sending thread CPU per notification {statistics.median(values) * 1e6:5.0f} us")


@contextmanager
def receiver_in_a_process() -> Iterator[Receiver]:
    """The same receiver in a process of its own (``--receiver process``): it no longer shares the sender's GIL,
    and the CPU time printed is the sender's alone."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "from tests.channels.receiver import Receiver, running\n"
            "with running(Receiver('')) as rx:\n    print(rx.port, flush=True)\n    sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        yield Receiver("", port=int(proc.stdout.readline()))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


def drill(secret: str, count: int, work: Path, workers: int) -> str:
    """Queue ``count`` while nothing listens, then drain into a verifying receiver: every id once. ``workers``:
    what ``medic notify flush`` does (batches, that many threads); 0: the outbox's own one-at-a-time drain."""
    rx = Receiver(secret)
    with running(rx):
        port = rx.port
    os.environ["MEDIC_CHANNEL_ALLOW"] = f"127.0.0.1:{port}"
    config = {"channels": {"hook": {"type": "webhook", "url": rx.url, "secret": "env:HOOK_SECRET"}}}
    routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
    clock = [time.time()]
    box = Outbox(work / "drill.sqlite", clock=lambda: clock[0])
    for i in range(count):
        box.enqueue("hook", "webhook", routes[0].options, _note(i))
    ids = {m.id for m in box.messages()}
    started = time.perf_counter()
    with running(Receiver(secret, port=port)) as live:
        while box.messages("pending"):
            clock[0] += 3600
            if workers:
                drain(box, {"webhook": WebhookChannel()}, budget_s=3600, workers=workers)
            else:
                box.drain({"webhook": WebhookChannel()}, budget_s=3600)
    took = time.perf_counter() - started
    delivered = [h.webhook_id for h in live.hits if h.verified]
    lost = len(ids) - len({d.removeprefix("msg_") for d in delivered} & ids)
    return (f"drain after an outage ({workers or 'no'} worker threads): {count} queued,"
            f" {len(delivered)} delivered and verified in {took:.1f} s "
            f"({count / took:.0f}/s), lost {lost}, duplicates {len(delivered) - len(set(delivered))}, "
            f"dead {len(box.messages('dead'))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--drain", type=int, default=10000)
    ap.add_argument("--drain-workers", type=int, default=drain_mod.WORKERS,
                    help="threads sending the drain (0: one at a time, the outbox's own drain)")
    ap.add_argument("--receiver", choices=("thread", "process"), default="thread",
                    help="the loopback receiver of the rate rounds: a thread of this process, or a process of its own")
    ap.add_argument("--layers", action="store_true", help="also: CPU per notification layer by layer")
    ap.add_argument("--block", type=int, default=0,
                    help="within a round, the two sides take turns this many notifications at a time (0: the "
                         "whole round, then the other side)")
    args = ap.parse_args()
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    os.environ["HOOK_SECRET"] = secret
    elsewhere = args.receiver == "process"
    with tempfile.TemporaryDirectory() as tmp, receiver_in_a_process() if elsewhere else running(Receiver("")) as rx:
        os.environ["MEDIC_CHANNEL_ALLOW"] = rx.allow
        config = {"channels": {"hook": {"type": "webhook", "url": rx.url, "secret": "env:HOOK_SECRET"}}}
        routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
        bares, channels = [], []
        for r in range(args.repeat):  # alternate, so load changes hit both alike
            if args.block:
                with httpx.Client(trust_env=False) as client:
                    outbox = Path(tmp) / f"outbox-{r}.sqlite"
                    b_one, c_one = _timed_blocks(args.count, args.block, [
                        lambda i: client.post(rx.url, content=payload(_note(i)),
                                              headers={"content-type": "application/json"}),
                        lambda i: notify.deliver(routes, _note(i), outbox)])  # noqa: B023 (called in this loop)
                bares.append(b_one)
                channels.append(c_one)
                continue
            bares.append(bare(rx.url, args.count))
            channels.append(channel(routes, Path(tmp) / f"outbox-{r}.sqlite", args.count))
        b, c = statistics.median(x[0] for x in bares), statistics.median(x[0] for x in channels)
        print(f"bare httpx loop       median {b:7.0f}/s  {[round(x[0]) for x in bares]}")
        print(f"webhook channel       median {c:7.0f}/s  {[round(x[0]) for x in channels]}")
        print(f"ratio channel / bare  {c / b:.2f}  (target >= 0.7)")
        paired = [ch[0] / ba[0] for ba, ch in zip(bares, channels, strict=True)]
        print(f"ratio per round       median {statistics.median(paired):.2f}  {[round(x, 2) for x in paired]}")
        bo, co = statistics.median(x[1] for x in bares), statistics.median(x[1] for x in channels)
        print(f"one notification      median bare {bo * 1e6:.0f} us, channel {co * 1e6:.0f} us: "
              f"ratio {bo / co:.2f} ({1 / bo:.0f}/s vs {1 / co:.0f}/s)")
        bc, cc = statistics.median(x[2] for x in bares), statistics.median(x[2] for x in channels)
        who = "sender" if elsewhere else "sender and receiver"
        print(f"CPU per notification  median bare {bc * 1e6:.0f} us, channel {cc * 1e6:.0f} us ({who}): "
              f"ratio {bc / cc:.2f}")
        bt, ct = statistics.median(x[3] for x in bares), statistics.median(x[3] for x in channels)
        print(f"CPU of the sending thread  median bare {bt * 1e6:.0f} us, channel {ct * 1e6:.0f} us: "
              f"ratio {bt / ct:.2f}")
        if args.layers:
            layers(rx.url, routes, Path(tmp) / "layers.sqlite", args.count, args.repeat)
        if args.drain:
            print(drill(secret, args.drain, Path(tmp), args.drain_workers))


if __name__ == "__main__":
    main()
