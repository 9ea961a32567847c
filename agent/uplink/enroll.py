"""Enrollment: a single-use code buys this agent an id, a bearer token and the collector's receipt key.

The server's identity is checked (pin or CA) before the code is sent. The answer is stored mode 0600
(state.save_enrollment); the receipt key is pinned from then on, so a receipt signed by any other key is refused.
"""

from __future__ import annotations

import json
import os
import socket

from medic.agent.uplink.errors import EnrollmentError, UplinkError
from medic.agent.uplink.receipt import decode_public_key, key_id
from medic.agent.uplink.state import Enrollment
from medic.agent.uplink.transport import NETWORK_ERRORS, Server

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from typing import Any


def enroll(server: Server, code: str, name: str | None = None) -> Enrollment:
    """POST /enroll; raises EnrollmentError when the code is refused, UplinkError when the server cannot be reached."""
    body = json.dumps({"code": code, "name": name or socket.gethostname()}).encode("utf-8")
    try:
        resp = server.request("POST", server.path("/enroll"), {"Content-Type": "application/json"}, body)
    except NETWORK_ERRORS as exc:
        raise UplinkError(f"{server.url}: cannot reach the collector: {exc}") from None
    finally:
        server.close()
    if resp.status == 429:
        wait = resp.header("retry-after") or "a while"
        raise EnrollmentError(f"{server.url}: too many enrollment attempts; try again in {wait} s")
    if resp.status != 201:
        raise EnrollmentError(f"{server.url}: enrollment refused (HTTP {resp.status}): {resp.problem()}")
    try:
        doc = json.loads(resp.body.decode("utf-8"))
        return _enrollment(server, doc)
    except (ValueError, KeyError, TypeError) as exc:
        raise EnrollmentError(f"{server.url}: the enrollment answer is not the expected JSON ({exc})") from None


def _enrollment(server: Server, doc: dict[str, Any]) -> Enrollment:
    key = doc["receipt_key"]
    raw = decode_public_key(str(key["public_key"]))
    if key_id(raw) != key["key_id"]:
        raise EnrollmentError(f"{server.url}: the receipt key's id {key['key_id']!r} is not the sha256 of the key")
    return Enrollment(url=server.url, agent_id=str(doc["agent_id"]), token=str(doc["token"]),
                      key_id=str(key["key_id"]), public_key=str(key["public_key"]),
                      uploads=str(doc.get("uploads") or "/files/"), tus_max_size=int(doc.get("tus_max_size") or 0),
                      pin=server.pin, ca=os.path.abspath(server.ca) if server.ca else None)
