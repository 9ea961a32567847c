"""Two outboxes side by side in one process: ``notify.deliver`` through the ``webhook`` channel with this tree's
``core/outbox.py`` and with another copy of it (e.g. main's), beside the bare httpx loop, round after round
(interleaved, so load changes hit all three alike); medians of the rounds. The channel, guard and receiver are the
same for both: only the outbox differs.

    git show main:core/outbox.py > /tmp/outbox_main.py
    .venv/bin/python bench/channels_outbox_ab.py /tmp/outbox_main.py [--rounds 8] [--count 500] [--receiver process]
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import channels_bench as cb

from medic.core import notify
from medic.core import outbox as this
from medic.plugins.channels.webhook import WebhookChannel


def load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("other_outbox", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["other_outbox"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("other", help="another core/outbox.py")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--receiver", choices=("thread", "process"), default="thread")
    args = ap.parse_args()
    other = load(args.other)
    os.environ["HOOK_SECRET"] = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    receiver = cb.receiver_in_a_process() if args.receiver == "process" else cb.running(cb.Receiver(""))
    with tempfile.TemporaryDirectory() as tmp, receiver as rx:
        os.environ["MEDIC_CHANNEL_ALLOW"] = rx.allow
        config = {"channels": {"hook": {"type": "webhook", "url": rx.url, "secret": "env:HOOK_SECRET"}}}
        routes = notify.resolve(["hook"], {"webhook": WebhookChannel()}, config)
        results: dict[str, list[cb.Timed]] = {"other": [], "this": [], "bare": []}
        for r in range(args.rounds):
            for name, module in (("other", other), ("this", this)):
                notify.Outbox = module.Outbox  # type: ignore[misc]
                results[name].append(cb.channel(routes, Path(tmp) / f"{name}-{r}.sqlite", args.count))
            results["bare"].append(cb.bare(rx.url, args.count))
        notify.Outbox = this.Outbox  # type: ignore[misc]
        bare = [statistics.median(x[k] for x in results["bare"]) for k in range(4)]
        for name, timed in results.items():
            rate, one, cpu, thread = (statistics.median(x[k] for x in timed) for k in range(4))
            print(f"{name:5s} {rate:6.0f}/s (x{rate / bare[0]:.2f})  one {one * 1e6:5.0f} us (x{bare[1] / one:.2f})"
                  f"  CPU {cpu * 1e6:4.0f} us (x{bare[2] / cpu:.2f})  sending thread {thread * 1e6:4.0f} us"
                  f" (x{bare[3] / thread:.2f})")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (xR: the speed as a fraction of the bare loop's)")


if __name__ == "__main__":
    main()
