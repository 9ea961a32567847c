"""The SSRF guard: every blocked form is refused before a connection is made, with a real receiver counting hits."""

from __future__ import annotations

import base64
import ipaddress
import os

import pytest

from medic.core.channel import DeliveryError
from medic.kernel.errors import UsageError
from medic.plugins.channels.guard import Allowance, BlockedDestination, vet, why_blocked
from medic.plugins.channels.http import GuardedClient
from tests.channels.receiver import Receiver, running

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()

# Forms of loopback a naive check misses; each would reach the test receiver if the guard let it through.
LOOPBACK_FORMS = ["127.0.0.1", "127.1", "2130706433", "0x7f.1", "0x7f000001", "017700000001", "localhost", "[::1]",
                  "[::ffff:127.0.0.1]", "127.0.0.2"]
# Addresses that must never be reached whatever listens there (checked without sending a packet).
BLOCKED = ["169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "100.64.0.1", "10.0.0.1", "172.16.5.4",
           "192.168.1.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]",
           "[fe80::1]", "[::]", "198.18.0.1", "192.0.0.8", "240.0.0.1", "[ff02::1]", "[fc00::1]",
           "[::ffff:169.254.169.254]", "[64:ff9b::7f00:1]", "192.0.2.10"]


@pytest.mark.parametrize("host", BLOCKED)
def test_special_addresses_are_refused_before_connecting(host: str) -> None:
    with pytest.raises(BlockedDestination, match="refused"):
        vet(host.strip("[]"), 443, Allowance(frozenset()))


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2001:4860:4860::8888"])
def test_global_unicast_addresses_pass(ip: str) -> None:
    assert why_blocked(ipaddress.ip_address(ip)) is None


def test_nat64_of_metadata_names_the_inner_address() -> None:
    reason = why_blocked(ipaddress.ip_address("64:ff9b::a9fe:a9fe"))
    assert reason is not None and "169.254.169.254" in reason


def test_loopback_forms_never_reach_a_listening_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIC_CHANNEL_ALLOW", raising=False)
    with running(Receiver(SECRET)) as rx, GuardedClient(Allowance(frozenset())) as client:
        for form in LOOPBACK_FORMS:
            with pytest.raises((BlockedDestination, DeliveryError)):
                client.post(f"http://{form}:{rx.port}/hook", b"{}", {})
        assert rx.hits == []


def test_an_allowed_lab_address_is_reached_and_only_that_port(monkeypatch: pytest.MonkeyPatch) -> None:
    with running(Receiver(SECRET)) as rx:
        allowance = Allowance.parse(rx.allow)
        with GuardedClient(allowance) as client:
            assert client.post(rx.url, b"{}", {}).status == 401  # reached: unsigned, so the receiver refuses it
            with pytest.raises(BlockedDestination):
                client.post(f"http://127.0.0.1:{rx.port + 1}/hook", b"{}", {})
        assert len(rx.hits) == 1


def test_redirect_to_a_metadata_address_is_not_followed() -> None:
    with running(Receiver(SECRET)) as rx:
        rx.script += [(302, {"location": "http://169.254.169.254/latest/meta-data/"})] * 2
        with GuardedClient(Allowance.parse(rx.allow)) as client:
            with pytest.raises(DeliveryError, match="redirect"):
                client.post(rx.url, b"{}", {})  # webhook: no redirect followed at all
            with pytest.raises(BlockedDestination):
                client.post(rx.url, b"{}", {}, redirects=3)  # chat: the hop is vetted and refused
        assert len(rx.hits) == 2


def test_environment_proxies_cannot_route_around_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    with running(Receiver(SECRET)) as rx:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{rx.port}")
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{rx.port}")
        with GuardedClient(Allowance(frozenset())) as client, pytest.raises(BlockedDestination):
            client.post("http://169.254.169.254/", b"{}", {})
        assert rx.hits == []


@pytest.mark.parametrize("text", ["127.0.0.1", "localhost:80", "1.2.3.4:x"])
def test_a_malformed_allow_list_is_one_clear_error(text: str) -> None:
    with pytest.raises(UsageError, match="MEDIC_CHANNEL_ALLOW"):
        Allowance.parse(text)


def test_plain_http_to_a_public_address_is_refused() -> None:
    with GuardedClient(Allowance(frozenset())) as client, pytest.raises(UsageError, match="https"):
        client.post("http://8.8.8.8/hook", b"{}", {})
