"""DNS rebinding: a name that resolves to a public address when vetted and to 127.0.0.1 when connected never
reaches the loopback listener, because the guarded client connects to the address it vetted. The lab runs in a
network namespace made here, with its own resolv.conf naming a dnslib server on its loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="needs root and iproute2 to make a network namespace")


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"medic-rebind-{os.getpid()}"
    etc = Path("/etc/netns") / name
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=30)
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        yield name
    finally:
        shutil.rmtree(etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def test_a_rebinding_name_never_reaches_loopback(netns: str) -> None:
    lab = Path(__file__).with_name("rebind_lab.py")
    env = {k: v for k, v in os.environ.items() if k != "MEDIC_CHANNEL_ALLOW"}
    out = subprocess.run(["ip", "netns", "exec", netns, sys.executable, str(lab)], capture_output=True, text=True,
                         timeout=120, env={**env, "PYTHONPATH": str(lab.parents[2])})
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["guarded_hits"] == 0, result
    # it connected to the vetted public address, which has no route in the namespace
    assert "Network is unreachable" in result["guarded"] and result["a_queries"] >= 2, result
    assert result["naive_hits"] == 1, result  # the lab does rebind: a client that resolves again gets through
    assert result["unresolvable_retryable"] is True, result  # a name that does not resolve is retried later
