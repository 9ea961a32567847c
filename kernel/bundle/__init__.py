"""The bundle format: one ``tar.gz`` holding ``manifest.json`` first, then probe results and collected files.

    with BundleWriter(out / "bundle.tar.gz", host="host-1") as writer:   # atomic write on clean exit
        writer.add_probe_result(scrubber.scrub_result(result))            # probes/0001.json
        writer.add_text("logs/syslog", scrubber.scrub_text(text), kind="log")
        writer.skip("probe:packages", "time budget exhausted")
        writer.set_redaction(scrubber.summary())

    with open_bundle(path) as bundle:                                      # verified, safely extracted
        results = bundle.probe_results()                                   # dict[ProbeCall, ProbeResult]

Reading errors are :class:`BundleError` subclasses of ``TargetError`` (exit code 3), naming the member.
One reader serves ``medic bundles inspect``, the ``bundle:`` target and the collector; the writer serves the agent.
The leak scan of a finished bundle is the agent's (:mod:`medic.agent.leakscan`): it needs the agent's detectors.
"""

from medic.kernel.bundle.errors import BundleCorrupt, BundleError, BundleFormatError, BundleUnsafe
from medic.kernel.bundle.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest, Member, ProbeRecord, Skipped
from medic.kernel.bundle.reader import Bundle, Limits, open_bundle, read_manifest, read_manifest_from
from medic.kernel.bundle.writer import BundleWriter

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "Bundle",
    "BundleCorrupt",
    "BundleError",
    "BundleFormatError",
    "BundleUnsafe",
    "BundleWriter",
    "Limits",
    "Manifest",
    "Member",
    "ProbeRecord",
    "Skipped",
    "open_bundle",
    "read_manifest",
    "read_manifest_from",
]
