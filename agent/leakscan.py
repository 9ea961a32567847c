"""Leak-scan a finished bundle with the independent detectors; any hit should block it (kept local).

The bundle format is the kernel's (:mod:`medic.kernel.bundle`); the detectors are the agent's
(:mod:`medic.agent.redact.leaks`), so the scan lives here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from medic.agent.redact.leaks import LeakHit, scan_members
from medic.kernel.bundle.manifest import MANIFEST_NAME
from medic.kernel.bundle.reader import Limits, open_bundle


def scan_bundle(path: str | Path, limits: Limits | None = None) -> list[LeakHit]:
    """Every hit (member, rule, line; never the value) across the manifest and all members."""
    with open_bundle(path, limits) as bundle:
        manifest = json.dumps(bundle.manifest.to_dict(), indent=1, sort_keys=True)
        members = ((m.path, bundle.read_bytes(m.path)) for m in bundle.manifest.members)  # one at a time
        return scan_members(itertools.chain([(MANIFEST_NAME, manifest)], members))
