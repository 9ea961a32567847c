"""Probes that ask servers over UDP: one DNS query per configured nameserver, one SNTP query for the
offset."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from medic.kernel.params import Param
from medic.kernel.probe import probe


def _dns_query(qname: str, qtype: int, ident: int) -> bytes:
    labels = [p for p in qname.strip(".").split(".") if p]
    body = b"".join(bytes([len(p)]) + p.encode("idna") for p in labels) + b"\0"
    return (
        ident.to_bytes(2, "big")
        + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        + body
        + qtype.to_bytes(2, "big")
        + b"\x00\x01"
    )


@probe(
    "nameservers",
    params=[
        Param("resolv_conf", "string", "/etc/resolv.conf", "resolver configuration file"),
        Param("name", "string", ".", "name to ask for (default: the root, type NS)"),
        Param("port", "int", 53, "DNS port"),
        Param("timeout", "float", 2.0, "seconds per server"),
    ],
    description="Send one DNS query (UDP) to each nameserver in resolv.conf: answered, rcode, latency.",
    live=True,
)
def nameservers(
    resolv_conf: str = "/etc/resolv.conf", name: str = ".", port: int = 53, timeout: float = 2.0
) -> dict[str, Any]:
    import secrets  # not `random`: a probe thread the agent abandoned must not move the global generator

    try:
        text = Path(resolv_conf).read_text()
    except OSError as exc:
        return {"present": False, "error": str(exc), "servers": []}
    servers = [
        f[1]
        for f in (line.split("#", 1)[0].split() for line in text.splitlines())
        if len(f) > 1 and f[0] == "nameserver"
    ]
    out = []
    for server in servers:
        ident = secrets.randbelow(1 << 16)  # a DNS transaction id: unpredictable, as resolvers expect
        family = socket.AF_INET6 if ":" in server else socket.AF_INET
        started = time.monotonic()
        entry: dict[str, Any] = {"server": server, "answered": False, "rcode": None, "error": None}
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.sendto(_dns_query(name, 2 if name.strip(".") == "" else 1, ident), (server, port))
                reply, _ = sock.recvfrom(4096)
            if len(reply) >= 4 and int.from_bytes(reply[:2], "big") == ident:
                entry.update(answered=True, rcode=reply[3] & 0x0F)
            else:
                entry["error"] = "malformed or mismatched reply"
        except OSError as exc:
            entry["error"] = str(exc) or type(exc).__name__
        entry["latency_ms"] = round(1000 * (time.monotonic() - started), 2)
        out.append(entry)
    return {"present": True, "error": None, "servers": out}


@probe(
    "ntp_offset",
    params=[
        Param("server", "string", "pool.ntp.org", "NTP server"),
        Param("port", "int", 123, "UDP port"),
        Param("timeout", "float", 3.0, "seconds"),
    ],
    description="Ask an NTP server for the time (SNTP); the local clock's offset and the round trip.",
    live=True,
)
def ntp_offset(server: str = "pool.ntp.org", port: int = 123, timeout: float = 3.0) -> dict[str, Any]:
    ntp_epoch = 2208988800
    packet = b"\x23" + 47 * b"\0"  # LI 0, version 4, mode 3 (client)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            t1 = time.time()
            sock.sendto(packet, (server, port))
            reply, _ = sock.recvfrom(512)
            t4 = time.time()
    except OSError as exc:
        return {"server": server, "ok": False, "error": str(exc) or type(exc).__name__}
    if len(reply) < 48:
        return {"server": server, "ok": False, "error": f"short reply ({len(reply)} bytes)"}

    def stamp(offset: int) -> float:
        sec, frac = (
            int.from_bytes(reply[offset : offset + 4], "big"),
            int.from_bytes(reply[offset + 4 : offset + 8], "big"),
        )
        return sec - ntp_epoch + frac / 2**32

    t2, t3 = stamp(32), stamp(40)
    return {
        "server": server,
        "ok": True,
        "error": None,
        "stratum": reply[1],
        "offset_s": round(((t2 - t1) + (t3 - t4)) / 2, 6),
        "delay_s": round((t4 - t1) - (t3 - t2), 6),
    }
