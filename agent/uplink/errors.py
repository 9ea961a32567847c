"""Why talking to the collector failed, with the agent's exit codes (README: `medic-agent` exit codes).

Every one keeps the local bundle: the agent deletes it only after a verified receipt.
"""

from __future__ import annotations

from medic.kernel.errors import MedicError

EXIT_UPLOAD_FAILED = 5
EXIT_ENROLLMENT = 6
EXIT_SERVER_IDENTITY = 7


class UplinkError(MedicError):
    """The upload did not complete or its receipt did not prove it: the bundle is kept."""

    exit_code = EXIT_UPLOAD_FAILED


class ReceiptInvalid(UplinkError):
    """A receipt whose signature, key id, hash or size is not the expected one."""


class EnrollmentError(UplinkError):
    """Not enrolled, enrollment refused (code unknown, used or expired), or the agent's token was revoked."""

    exit_code = EXIT_ENROLLMENT


class ServerIdentityError(UplinkError):
    """The server's certificate does not match the pin, or does not verify against the CA: nothing was sent."""

    exit_code = EXIT_SERVER_IDENTITY
