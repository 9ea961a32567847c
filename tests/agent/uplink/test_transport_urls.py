"""Collector URLs read without urllib.parse (transport.plain_https): whatever that reader accepts, urlsplit reads
the same way, so a restarted upload need not import urllib.parse (bench/README-collector.md, session 14)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.agent.uplink.transport import Server, parse_url, plain_https

PIECES = st.sampled_from(["https://", "http://", "HTTPS://", "host", "Host", "127.0.0.1", "[::1]", "a-b.example",
                          ":", "8443", "0", "99999", "08443", "/", "/files/", "abc", "?q=1", "#f", "@", "user",
                          " ", "\t", "%2F", "..", "_~", "é", ""])


def by_urlsplit(url: str) -> tuple[str, int, str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 443, parts.path, parts.path + (f"?{parts.query}" if parts.query else "")


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, max_size=7))
def test_what_it_reads_urlsplit_reads_the_same(pieces: list[str]) -> None:
    url = "".join(pieces)
    plain = plain_https(url)
    if plain is not None:
        host, port, path, location = by_urlsplit(url)
        assert (plain[0], plain[1] or 443, plain[2]) == (host, port, path)
        assert parse_url(url) == (host, port, path.rstrip("/"))
        assert Server(url, pin="0" * 64).location_path(url) == location


@pytest.mark.parametrize("url", ["https://127.0.0.1:8443", "https://collector.example/medic/",
                                 "https://c-1.example:443/files/3f2a_b~c"])
def test_the_urls_a_collector_gives_are_read_plainly(url: str) -> None:
    assert plain_https(url) is not None
    host, port, path, _ = by_urlsplit(url)
    assert parse_url(url) == (host, port, path.rstrip("/"))


@pytest.mark.parametrize("url", ["https://[::1]:8443", "https://Host", "https://u@h", "https://h:99999",
                                 "https://h/a?b", "http://h", "https://h:", "https://bücher.example"])
def test_anything_else_is_left_to_urlsplit(url: str) -> None:
    assert plain_https(url) is None
