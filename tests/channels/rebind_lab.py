"""Run inside a network namespace whose resolv.conf names 127.0.0.1 (see test_rebinding.py): a dnslib server that
answers a public address for the first A query of a name and 127.0.0.1 after that (DNS rebinding), a TCP listener
on 127.0.0.1 counting connections, medic's guarded client, then a naive client. Prints one JSON line."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading

import httpx
from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSServer

from medic.core.channel import DeliveryError
from medic.kernel.errors import UsageError
from medic.plugins.channels.guard import Allowance
from medic.plugins.channels.http import GuardedClient

NAME = "rebind.medic.test."
PUBLIC = "93.184.216.34"


class Rebinding(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.a_queries = 0

    def resolve(self, request: object, handler: object) -> object:
        reply = request.reply()  # type: ignore[attr-defined]
        q = request.q  # type: ignore[attr-defined]
        if str(q.qname) == NAME and q.qtype == QTYPE.A:
            self.a_queries += 1
            address = PUBLIC if self.a_queries == 1 else "127.0.0.1"
            reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(address), ttl=0))
        elif str(q.qname) != NAME:
            reply.header.rcode = 3  # NXDOMAIN
        return reply


def main() -> None:
    resolver = Rebinding()
    dns = DNSServer(resolver, port=53, address="127.0.0.1")
    dns.start_thread()
    listener = socket.create_server(("127.0.0.1", 0))
    port, hits = listener.getsockname()[1], []

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            hits.append(1)
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    result: dict[str, object] = {}
    with GuardedClient(Allowance(frozenset())) as client:
        try:
            client.post(f"https://rebind.medic.test:{port}/hook", b"{}", {})
            result["guarded"] = "delivered"
        except (DeliveryError, UsageError) as exc:
            result["guarded"] = str(exc)
        result["guarded_hits"] = len(hits)
        try:
            client.post(f"https://nosuch.medic.test:{port}/hook", b"{}", {})
        except DeliveryError as exc:
            result["unresolvable_retryable"] = exc.retryable
    # a client that resolves again when it connects: the rebinding reaches the listener (TLS then fails)
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"https://rebind.medic.test:{port}/hook", content=b"{}", verify=False, timeout=5)
    result["naive_hits"] = len(hits) - int(result["guarded_hits"])  # type: ignore[call-overload]
    result["a_queries"] = resolver.a_queries
    dns.stop()
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
