"""The CPU floor of one verified upload: the per-byte work the protocol itself asks for, measured here on its own,
without Python's HTTP, asyncio or medic around it. Compare with the CPU seconds per upload collector_bench.py prints.

    .venv/bin/python bench/collector_floor.py [--mib 1024] [--repeat 3]

Work each byte of a bundle needs, at the least (issue 13's protocol, nothing optional):
- agent: read the bundle (page cache), sha256 of each PATCH (Upload-Checksum), TLS encryption, send on loopback;
- collector: receive, TLS decryption, sha256 of each PATCH, write (page cache), the whole file's sha256, read back
  by the reader: gunzip (for random members: stored blocks, whose cost is gzip's crc32) and each member's sha256.
So 4 sha256 passes, 2 AES-GCM passes (one each way), 1 crc32, one file read and one write, one loopback copy each
way. fsync and the disk are not CPU and are left out, as are memory copies inside Python and the TLS layer.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from collector_helpers import make_ca  # noqa: E402

BLOCK = 8 << 20


def cpu() -> float:
    """This process's CPU seconds, all threads, user + system."""
    return time.process_time()


def timed(work: Callable[[], None], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = cpu()
        work()
        runs.append(cpu() - start)
    return statistics.median(runs)


def tls_pair(pki: Path) -> tuple[ssl.SSLObject, ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    """A TLS client and server joined by memory buffers, handshake done (the contexts of agent and collector)."""
    ca, cert, key = make_ca(pki)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(cert), str(key))
    client_ctx = ssl.create_default_context(cafile=str(ca))
    c2s, s2c = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(s2c, c2s, server_hostname="127.0.0.1")
    server = server_ctx.wrap_bio(c2s, s2c, server_side=True)
    for _ in range(10):
        for side in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):  # the other side has not answered yet
                side.do_handshake()
    return client, server, c2s, s2c


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = os.urandom(BLOCK)
    blocks = args.mib * (1 << 20) // BLOCK
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        client, server, c2s, _ = tls_pair(base / "pki")
        out = {}

        def sha256() -> None:
            for _ in range(blocks):
                hashlib.sha256(data).digest()

        def crc32() -> None:
            for _ in range(blocks):
                zlib.crc32(data)

        def tls() -> None:  # encrypt on one side, decrypt on the other, 16 KiB records as TLS makes them
            view = memoryview(data)  # (written a record at a time: a memory BIO grows slowly under larger writes)
            for _ in range(blocks):
                for at in range(0, len(view), 16 << 10):
                    client.write(view[at:at + (16 << 10)])
                while c2s.pending:
                    server.read(1 << 20)

        target = base / "file"

        def write() -> None:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            for _ in range(blocks):
                os.write(fd, data)
            os.close(fd)

        def read() -> None:
            fd = os.open(target, os.O_RDONLY)
            while os.read(fd, BLOCK):
                pass
            os.close(fd)

        def loopback() -> None:
            with socket.create_server(("127.0.0.1", 0)) as listener:
                a = socket.create_connection(listener.getsockname())
                b, _ = listener.accept()

            def drain() -> None:
                buf = bytearray(256 << 10)
                while b.recv_into(buf):
                    pass

            reader = threading.Thread(target=drain)
            reader.start()
            for _ in range(blocks):
                a.sendall(data)
            a.close()
            reader.join()
            b.close()

        for name, work in (("sha256", sha256), ("crc32", crc32), ("tls", tls), ("write", write), ("read", read),
                           ("loopback", loopback)):
            out[name] = timed(work, args.repeat)
            print(f"{name:9s} {out[name]:.3f} CPU s for {args.mib} MiB", flush=True)
    agent = out["read"] + out["sha256"] + out["tls"] / 2 + out["loopback"] / 2
    collector = out["loopback"] / 2 + out["tls"] / 2 + 3 * out["sha256"] + out["write"] + out["read"] + out["crc32"]
    print(f"floor per {args.mib} MiB upload: agent {agent:.2f} + collector {collector:.2f} = {agent + collector:.2f} "
          f"CPU s (4 sha256, 2 TLS halves, 1 crc32, 2 reads, 1 write, 1 loopback); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
