"""Live network probes and checks against real servers on 127.0.0.1 (HTTP, HTTPS, DNS, NTP, TCP)."""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Any

import pytest

from medic.core.check import evaluate
from medic.kernel.models import Finding, Status
from medic.plugins.targets.local import LocalTarget
from medic.probes.udpquery import nameservers

from . import servers


@pytest.fixture
def run(registry):  # type: ignore[no-untyped-def]
    target = LocalTarget(registry.probes)

    def go(check_id: str, **params: Any) -> list[Finding]:
        spec = registry.checks[check_id]
        bound = spec.bind(params)
        calls = spec.needs(bound)
        got = target.collect(calls.values())
        return evaluate(spec, bound, {a: got[c] for a, c in calls.items()}, target="local", target_live=True)

    return go


def test_http_status_redirects_latency(run) -> None:  # type: ignore[no-untyped-def]
    with servers.http_server() as base:
        [ok] = run("network.http_request", url=f"{base}/redirect/2")
        assert ok.status is Status.PASS and ok.evidence["redirects"] == 2 and ok.evidence["status"] == 200
        [down] = run("network.http_request", url=f"{base}/down")
        assert down.status is Status.FAIL and "status 503" in down.summary and down.remediation
        [loop] = run("network.http_request", url=f"{base}/redirect/9", max_redirects=2)
        assert loop.status is Status.FAIL and "still redirecting after 2" in loop.summary
        [slow] = run("network.http_request", url=f"{base}/slow", warn_ms=100.0)
        assert slow.status is Status.WARN
    with socket.socket() as closed:  # bound, never listening: refused, and no other process can take the port
        closed.bind(("127.0.0.1", 0))
        [refused] = run("network.http_request", url=f"http://127.0.0.1:{closed.getsockname()[1]}/")
    assert refused.status is Status.FAIL and "refused" in refused.summary.lower()


def test_https_certificate_expiry(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert = servers.self_signed(tmp_path, days=10)
    with servers.http_server(cert) as base:
        [unverified] = run("network.http_request", url=f"{base}/", verify_tls=False)
        assert unverified.status is Status.WARN and 9 < unverified.evidence["cert_days_left"] <= 10
        [strict] = run("network.http_request", url=f"{base}/")
        assert strict.status is Status.FAIL and "verification failed" in strict.summary


def test_cert_files(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    servers.self_signed(tmp_path, days=400, name="good")
    servers.self_signed(tmp_path, days=3, name="soon")
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    found = run("security.cert_expiry", paths=[str(tmp_path / "*.pem")])
    by = {Path(f.subject or "").name: f for f in found}
    assert by["good.pem"].status is Status.PASS and by["good.pem"].evidence["subject"] == "127.0.0.1"
    assert by["soon.pem"].status is Status.FAIL
    assert by["junk.pem"].status is Status.ERROR


def test_nameservers(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "resolv.conf"
    with (
        servers.udp_responder(servers.dns_reply()) as port,
        servers.udp_responder(servers.dns_reply(2)) as bad,
    ):
        assert port != bad
        conf.write_text("nameserver 127.0.0.1\n")
        [ok] = run("network.nameservers_reachable", resolv_conf=str(conf), port=port)
        assert ok.status is Status.PASS and ok.evidence["rcode"] == 0
        [servfail] = run("network.nameservers_reachable", resolv_conf=str(conf), port=bad)
        assert servfail.status is Status.WARN and "SERVFAIL" in servfail.summary
    with servers.udp_responder(lambda _q: None) as silent:
        conf.write_text("nameserver 127.0.0.1\n")
        [dead] = run("network.nameservers_reachable", resolv_conf=str(conf), port=silent, timeout_s=0.3)
        assert dead.status is Status.FAIL



def test_nameservers_leave_the_global_random_generator_alone(tmp_path: Path) -> None:
    """The agent abandons a stuck probe's thread; a transaction id drawn there from the global generator moved it
    under a later test (Hypothesis warned "Do not use the `random` module inside strategies")."""
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\nnameserver 127.0.0.1\n")
    state = random.getstate()
    with servers.udp_responder(servers.dns_reply()) as port:
        out = nameservers(str(conf), port=port)
    assert [(s["answered"], s["rcode"]) for s in out["servers"]] == [(True, 0), (True, 0)]
    assert random.getstate() == state

@pytest.mark.parametrize(("offset", "status"), [(0.0, Status.PASS), (2.0, Status.WARN), (30.0, Status.FAIL)])
def test_clock_offset(run, offset: float, status: Status) -> None:  # type: ignore[no-untyped-def]
    with servers.udp_responder(servers.ntp_reply(offset)) as port:
        [f] = run("system.clock_offset", server="127.0.0.1", port=port)
    assert f.status is status
    assert abs(f.evidence["offset_s"] - offset) < 0.2


def test_tcp_connect_and_port_listening(run) -> None:  # type: ignore[no-untyped-def]
    with servers.http_server() as base:
        port = int(base.rsplit(":", 1)[1])
        [tcp] = run("network.tcp_connect", host="127.0.0.1", port=port)
        assert tcp.status is Status.PASS
        [listening] = run("services.port_listening", ports=[port])
        assert listening.status is Status.PASS and "127.0.0.1" in listening.evidence["addresses"]
        [wrong] = run("services.port_listening", ports=[port], address="192.0.2.99")
        assert wrong.status is Status.FAIL and "only on 127.0.0.1" in wrong.summary
    [closed] = run("network.tcp_connect", host="127.0.0.1", port=port, timeout_s=1.0)
    assert closed.status is Status.FAIL
