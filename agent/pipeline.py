"""One click: collect under budgets, scrub, write the bundle atomically, leak-scan it; block it on a leak.

Findings a user reviewed and listed in a leak baseline (:mod:`medic.agent.leakbaseline`) do not block; any
other finding does (there is no switch that turns the scan off). The pseudonym mapping (when ``pseudonymise``
is on) is written next to the bundle, readable only by the user, and never put inside it.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from medic.agent.collect import Collected, Collector, Progress, lower_priority
from medic.agent.leakbaseline import Baseline
from medic.agent.leakscan import scan_bundle
from medic.agent.profile import Profile
from medic.agent.redact import LeakHit, Pseudonymiser, Scrubber
from medic.kernel.bundle import BundleWriter
from medic.kernel.models import ProbeResult
from medic.kernel.probes import discover


@dataclass
class Outcome:
    path: Path  # the bundle, or the blocked bundle (``*.blocked``) when a leak was found
    size: int
    collected: Collected
    redaction: dict[str, int]
    leaks: list[LeakHit] = field(default_factory=list)  # findings that block the bundle
    allowed: list[LeakHit] = field(default_factory=list)  # findings the leak baseline lets pass
    blocked: bool = False
    mapping_path: Path | None = None


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:64] or "host"


def collect_bundle(profile: Profile, output: Path, *, note: str = "", app_logs: list[str] | None = None,
                   pseudonymise: bool = False, leak_baseline: Baseline | None = None,
                   progress: Progress | None = None,
                   low_priority: bool = True) -> Outcome:
    if low_priority:
        lower_priority()
    hostname = socket.gethostname()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    probes = discover()  # built-in and third-party probe modules alike (entry-point group medic.probes)
    collected = Collector(profile, probes.specs, progress).run(app_logs)
    for failure in probes.failures:  # the bundle says why that module's probes are missing
        collected.skip(f"probe-module:{failure.source.entry}", str(failure))
    pseudo = Pseudonymiser(users=[getpass.getuser()], hosts=[hostname]) if pseudonymise else None
    scrubber = Scrubber(pseudo)
    # probe parameters come from the profile, not from this machine: secrets are scrubbed from them but they are
    # not pseudonymised, so the calls keep the keys playbooks ask for (`medic run triage --target bundle:...`)
    params_scrubber = Scrubber() if pseudo is not None else scrubber
    host = pseudo.text(hostname) if pseudo else hostname
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = output / f"medic-bundle-{_safe_name(host)}-{stamp}.tar.gz"
    if progress:
        progress(f"writing {dest.name}")
    # everything is scrubbed before anything is written: a secret found in a later member is then redacted in
    # the earlier ones too (Scrubber.again_*), not only in those after it
    results = [_scrub(result, scrubber, params_scrubber) for result in collected.results]
    texts = [(f.arcname, scrubber.scrub_text(f.text, path=f.source)) for f in collected.files]
    commands = scrubber.scrub_value(collected.commands)
    environment = scrubber.scrub_value(collected.environment)
    note_text = scrubber.scrub_text(note) + "\n" if note else ""
    with BundleWriter(dest, host=host, started_at=started,
                      info={"profile": profile.name, "pseudonymised": pseudonymise}) as writer:
        for result in results:
            writer.add_probe_result(scrubber.again_result(result))
        for arcname, text in texts:
            writer.add_text(arcname, scrubber.again_text(text), kind="log")
        writer.add_json("commands.json", scrubber.again_value(commands), kind="command")
        writer.add_json("environment.json", scrubber.again_value(environment), kind="environment")
        if note_text:
            writer.add_text("note.txt", scrubber.again_text(note_text), kind="note")
        for s in collected.skipped:
            writer.skip(s["item"], s["reason"])
        summary = _merged(scrubber.summary(), params_scrubber.summary() if params_scrubber is not scrubber else {})
        writer.set_redaction(summary)
    outcome = Outcome(dest, dest.stat().st_size, collected, summary)
    if pseudo is not None:
        outcome.mapping_path = _write_mapping(dest, pseudo.mapping)
    if progress:
        progress("scanning the bundle for leaks")
    hits = scan_bundle(dest)
    outcome.leaks, outcome.allowed = leak_baseline.split(hits) if leak_baseline else (hits, [])
    if outcome.leaks:
        blocked = dest.with_name(dest.name + ".blocked")
        os.replace(dest, blocked)
        outcome.path, outcome.blocked = blocked, True
    return outcome


def _scrub(result: ProbeResult, scrubber: Scrubber, params_scrubber: Scrubber) -> ProbeResult:
    scrubbed = scrubber.scrub_result(result)
    if params_scrubber is not scrubber:
        scrubbed = replace(scrubbed, params=params_scrubber.scrub_value(result.params))
    return scrubbed


def _merged(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in sorted({*a, *b})}


def _write_mapping(bundle: Path, mapping: dict[str, str]) -> Path:
    path = bundle.with_name(bundle.name.removesuffix(".tar.gz") + ".pseudonyms.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(mapping, fh, indent=1, sort_keys=True)
    return path
