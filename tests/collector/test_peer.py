"""A PATCH whose client has gone with its body unfinished stops at once (plugins/collector/peer.py): the bytes the
dead client's kernel still delivers are not decrypted, hashed and written only to be truncated away, and the
upload is free for the agent's next process sooner. Real TCP sockets on 127.0.0.1 and a real collector."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator

import pytest
from collector_helpers import TUS, Running, checksum, cut_patch_raw

from medic.plugins.collector.peer import SLACK, gone_short

MiB = 1 << 20


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(the server's accepted socket, the client's) over TCP on loopback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with server, client:
        yield server, client


def ended(server: socket.socket) -> None:
    """Wait until the server's side has seen the client's FIN (TCP_CLOSE_WAIT)."""
    deadline = time.monotonic() + 5
    while server.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 8:
        assert time.monotonic() < deadline, "no FIN seen"
        time.sleep(0.01)


def test_a_client_still_there_is_never_gone(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(bytes(1000))
    assert not gone_short(server, 64 * MiB)


def test_a_client_gone_with_the_body_unfinished_is_gone(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    client.sendall(bytes(1000))
    client.shutdown(socket.SHUT_WR)
    ended(server)
    assert gone_short(server, SLACK + 1001)  # 1000 bytes queued can never make it
    assert not gone_short(server, SLACK + 1000)  # they might (what TLS and uvicorn hold is counted as SLACK)
    assert not gone_short(None, 64 * MiB)  # no socket known: read on as before


def test_the_collector_stops_a_dead_clients_patch_and_frees_the_upload(collector: Running,
                                                                          agent: dict[str, object]) -> None:
    """16 MiB of a 64 MiB PATCH, then the client's FIN: the collector answers 400 naming PeerGone before it has
    read what was sent (without peer.py it reads all 16 MiB, meets the end and answers nothing); the offset stays
    0 and the next PATCH is not kept waiting (423)."""
    token = str(agent["token"])
    with collector.client(token) as client:
        meta = f"filename {b64('b.tar.gz')},sha256 {b64('0' * 64)},size {b64(str(64 * MiB))}"
        created = client.post("/files/", headers={**TUS, "Upload-Length": str(64 * MiB), "Upload-Metadata": meta})
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        answer = cut_patch_raw(collector, token, location, f"Upload-Checksum: {checksum(b'x')}\r\n", 64 * MiB,
                               os.urandom(16 * MiB))
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:300]
        assert b"PeerGone" in answer, answer[:600]
        assert client.head(location, headers=TUS).headers["upload-offset"] == "0"
        data = os.urandom(MiB)
        again = client.patch(location, content=data, headers={
            **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
            "Upload-Checksum": checksum(data)})
        assert again.status_code == 204 and again.headers["upload-offset"] == str(MiB), again.text


def test_wait_idle_wakes_when_the_patch_ends_and_gives_up_at_its_timeout() -> None:
    """A resumed agent's HEAD waits for the dropped PATCH's end: woken by it (an event), not by a polling step."""
    import asyncio
    from types import SimpleNamespace

    from medic.plugins.collector.patch import wait_idle

    async def scenario() -> tuple[bool, bool, bool, float]:
        col = SimpleNamespace(busy={})
        free = await wait_idle(col, "u1", timeout=0.0)  # type: ignore[arg-type]
        ended = col.busy["u1"] = asyncio.Event()
        waiter = asyncio.create_task(wait_idle(col, "u1", timeout=5))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        assert not waiter.done()
        del col.busy["u1"]
        released = time.monotonic()
        ended.set()
        woke = await waiter
        lag = time.monotonic() - released
        col.busy["u2"] = asyncio.Event()  # never ends
        stuck = await wait_idle(col, "u2", timeout=0.05)  # type: ignore[arg-type]
        return free, woke, stuck, lag

    naps: list[float] = []
    real_sleep = asyncio.sleep

    async def counted_sleep(delay: float, *args: object) -> object:
        if delay:
            naps.append(delay)
        return await real_sleep(delay, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asyncio, "sleep", counted_sleep)
        free, woke, stuck, lag = asyncio.run(scenario())
    assert free and woke and not stuck
    assert naps == []  # no polling step: the end of the PATCH itself wakes the waiter
    assert lag < 1  # (a generous bound: no timing target here)
