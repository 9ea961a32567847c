"""The one exception root of medic, and the exit codes the CLI maps them to.

Every subclass of MedicError anywhere in medic is drawn here, with its module and exit code
(tests/core/test_errors_tree.py fails when one is missing or moved):

    MedicError              medic.kernel.errors             exit 3  unless a subclass says otherwise
    ├── UsageError          medic.kernel.errors             exit 2  bad command line, unknown playbook or target name
    │   └── TriggerError    medic.flows.triggers            exit 2  a playbook's triggers: entry is invalid (file:line)
    ├── ValidationError     medic.kernel.errors             exit 2  a playbook, inventory or parameter set is invalid
    ├── ParamError          medic.kernel.params             exit 2  a parameter is missing, unknown or mistyped
    ├── ExprError           medic.core.expr                 exit 2  a malformed expression or an undefined name
    │   └── BlockedDestination  medic.plugins.channels.guard  exit 2  a channel URL reaches a non-global address
    ├── PluginError         medic.kernel.errors             exit 2  a plugin is broken, misspelt or clashes
    ├── TargetError         medic.kernel.errors             exit 3  a target could not be opened (host, bundle)
    │   ├── CommandTimeout  medic.plugins.ssh.connection    exit 3  a remote command ran past its timeout
    │   └── BundleError     medic.kernel.bundle.errors       exit 3  a bundle cannot be read
    │       ├── BundleCorrupt       medic.kernel.bundle.errors   exit 3  damaged or changed after writing
    │       ├── BundleUnsafe        medic.kernel.bundle.errors   exit 3  writes outside its directory, too big
    │       └── BundleFormatError   medic.kernel.bundle.errors   exit 3  not a bundle this version reads
    ├── ProbeError          medic.kernel.errors             exit 3  never escapes a run: an ``error`` finding
    │   └── ProbeUnavailable        medic.kernel.errors     exit 3  a ``skipped`` finding: no such data here
    ├── HostCallError       medic.plugins.change.safety.hosts exit 3  a host-side function failed remotely
    ├── BackupError         medic.plugins.change.safety.backups exit 3  a backup could not be made or restored
    │   ├── BackupNotFound  medic.plugins.change.safety.backups exit 2  no backup with that id
    │   └── BackupDamaged   medic.plugins.change.safety.backups exit 1  a backup failed verification
    ├── JournalError        medic.plugins.change.safety.journal exit 2  the run named has no journal
    ├── ActionError         medic.plugins.change.actions    exit 3  a change action cannot be planned or applied
    ├── EditError           medic.plugins.change.configvalue exit 3  a file edit cannot be applied
    ├── DeliveryError       medic.core.channel              exit 3  one notification attempt failed (outbox retries)
    ├── ServerUnreachable   medic.plugins.server.api        exit 3  nothing answers at PREFECT_API_URL
    ├── ResultRefused       medic.flows.results             exit 3  a result file not JSON (never unpickled)
    ├── RedactionError      medic.agent.redact.scrub        exit 3  scrubbing failed: the member is left out
    └── UplinkError         medic.agent.uplink.errors       exit 5  an upload failed or was not proved: bundle kept
        ├── ReceiptInvalid  medic.agent.uplink.errors       exit 5  a receipt's signature, key, hash or size is wrong
        ├── EnrollmentError medic.agent.uplink.errors       exit 6  not enrolled, code refused or token revoked
        ├── ServerIdentityError medic.agent.uplink.errors   exit 7  the collector's certificate is not the pinned one
        └── Expired         medic.agent.uplink.tus          exit 5  an unfinished upload expired (started again)

Every message says what was wrong and what the user can do about it; the CLI prints it as one line, no traceback.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from medic.kernel.issues import Issue

EXIT_OK = 0
EXIT_FINDINGS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class MedicError(Exception):
    """Root of every error medic raises on purpose."""

    exit_code = EXIT_INTERNAL


class UsageError(MedicError):
    exit_code = EXIT_USAGE


class ValidationError(MedicError):
    exit_code = EXIT_USAGE

    def __init__(self, issues: Sequence[Issue] | str, *, subject: str = "") -> None:
        if isinstance(issues, str):
            from medic.kernel.issues import Issue

            issues = [Issue(issues)]
        self.issues = list(issues)
        self.subject = subject
        head = f"{subject}: {len(self.issues)} problem(s)" if subject else f"{len(self.issues)} problem(s)"
        super().__init__(head + "\n" + "\n".join(f"  {i}" for i in self.issues))


class PluginError(MedicError):
    exit_code = EXIT_USAGE


class TargetError(MedicError):
    exit_code = EXIT_INTERNAL


class ProbeError(MedicError):
    """A probe could not produce its data on this target; the check reports ``error``."""


class ProbeUnavailable(ProbeError):
    """The data cannot exist on this target (not collected, needs a live host); the check reports ``skipped``."""


def __getattr__(name: str) -> object:
    """``Issue`` (a dataclass) lives in issues.py and is loaded on first use, so importing the errors alone loads
    neither dataclasses nor inspect: every restart of `medic-agent upload` after a kill -9 imports this module
    (bench/README-collector.md). ``from medic.kernel.errors import Issue`` works as before."""
    if name == "Issue":
        from medic.kernel.issues import Issue

        return Issue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
