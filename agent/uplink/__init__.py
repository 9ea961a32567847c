"""The agent's way to the collector (issue 13): enrollment, resumable tus uploads, signed receipts.

Standard library only (http.client, ssl, hashlib, json) plus a pure-Python Ed25519 verifier, so the one-file
agent runs on any CPython >= 3.9. Nothing here is imported by ``medic-agent collect`` alone: the CLI imports
these modules lazily when a command talks to a collector (tests/agent/uplink/test_lazy.py).
The protocol (enroll, tus 1.0.0 at /files/, signed receipt) is described in agent/README.md, "Uploading".
"""
