"""Redaction, fail closed: scrub secrets, optionally pseudonymise identities, then leak-scan independently.

    scrubber = Scrubber(Pseudonymiser(users=["alice"], hosts=[socket.gethostname()]))  # pseudonyms optional
    text = scrubber.scrub_text(raw, path="/etc/app/config.yaml")
    result = scrubber.scrub_result(probe_result)
    manifest["redaction"] = scrubber.summary()          # counts per rule, never values
    hits = scan_members(bundle_members)                  # independent detectors; any hit blocks the bundle
"""

from medic.agent.redact.keys import sensitive_key
from medic.agent.redact.leaks import LeakHit, scan_members, scan_text
from medic.agent.redact.pseudo import Pseudonymiser
from medic.agent.redact.scrub import RedactionError, Scrubber

__all__ = [
    "LeakHit",
    "Pseudonymiser",
    "RedactionError",
    "Scrubber",
    "scan_members",
    "scan_text",
    "sensitive_key",
]
