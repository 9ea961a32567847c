"""What the agent keeps between runs: its enrollment (token included, mode 0600) and its unfinished uploads.

Directory: ``$MEDIC_AGENT_STATE_DIR``, else ``$XDG_STATE_HOME/medic-agent``, else ``~/.local/state/medic-agent``
(mode 0700). ``enrollment.json`` holds the server URL, the pin or CA path, agent id, token and the receipt key
pinned at enrollment. ``pending/<bundle sha256>.json`` remembers an upload's Location, so a new process (after
kill -9, a reboot) resumes it from the server's offset instead of starting again.
"""

from __future__ import annotations

import contextlib
import json
import os

from medic.agent.uplink.errors import EnrollmentError

# Paths are strings here, handled with os and os.path: pathlib (with urllib.parse, re and fnmatch) was 13 M of the
# 160 M instructions a restarted `medic-agent upload` runs before it resumes (bench/README-collector.md, session 14).
TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from typing import Any, Union

    StrPath = Union[str, "os.PathLike[str]"]

ENROLLMENT_FILE = "enrollment.json"


def state_dir() -> str:
    if os.environ.get("MEDIC_AGENT_STATE_DIR"):
        return os.environ["MEDIC_AGENT_STATE_DIR"]
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "medic-agent")


def write_private(path: StrPath, data: dict[str, Any]) -> None:
    """Atomically (temporary file, fsync, rename), mode 0600 from the first byte, in a 0700 directory."""
    import tempfile  # only here: `medic-agent upload` resuming reads state, it rarely writes it

    parent, name = os.path.split(os.fspath(path))
    os.makedirs(parent or ".", mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=parent or ".", prefix=f".{name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Enrollment:
    """What enrollment gave this agent. A plain class, not a dataclass: dataclasses imports inspect, and every
    restart of `medic-agent upload` (a kill -9) pays its imports again."""

    FIELDS = ("url", "agent_id", "token", "key_id", "public_key", "uploads", "tus_max_size", "pin", "ca")

    def __init__(self, url: str, agent_id: str, token: str, key_id: str, public_key: str, uploads: str = "/files/",
                 tus_max_size: int = 0, pin: str | None = None, ca: str | None = None) -> None:
        self.url, self.agent_id, self.token, self.key_id = url, agent_id, token, key_id
        self.public_key = public_key  # base64 of the raw 32-byte Ed25519 receipt key
        self.uploads, self.tus_max_size = uploads, tus_max_size
        self.pin = pin  # hex sha256 of the certificate's DER
        self.ca = ca  # absolute path of the CA file

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Enrollment) and self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable attributes: not a dict key

    def __repr__(self) -> str:
        return f"Enrollment(url={self.url!r}, agent_id={self.agent_id!r}, key_id={self.key_id!r})"  # no token

    def public(self) -> dict[str, Any]:
        """Everything but the token, for `medic-agent status`."""
        shown = self.as_dict()
        shown.pop("token")
        return shown


def save_enrollment(enrollment: Enrollment, directory: StrPath | None = None) -> str:
    path = os.path.join(directory or state_dir(), ENROLLMENT_FILE)
    write_private(path, enrollment.as_dict())
    return path


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_enrollment(directory: StrPath | None = None) -> Enrollment:
    path = os.path.join(directory or state_dir(), ENROLLMENT_FILE)
    try:
        data = _read_json(path)
    except FileNotFoundError:
        raise EnrollmentError("this agent is not enrolled: run `medic-agent enroll URL --code CODE "
                              "--pin sha256:HEX` first") from None
    except (OSError, ValueError) as exc:
        raise EnrollmentError(f"{path}: unreadable enrollment ({exc}); enroll again") from None
    try:
        return Enrollment(**data)
    except TypeError as exc:
        raise EnrollmentError(f"{path}: not an enrollment this agent reads ({exc}); enroll again") from None


class PendingUploads:
    """Unfinished uploads by bundle sha256: {path, size, location}."""

    def __init__(self, directory: StrPath | None = None) -> None:
        self.directory = os.path.join(directory or state_dir(), "pending")

    def _file(self, sha256: str) -> str:
        return os.path.join(self.directory, f"{sha256}.json")

    def get(self, sha256: str) -> dict[str, Any] | None:
        try:
            data = _read_json(self._file(sha256))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, sha256: str, record: dict[str, Any]) -> None:
        write_private(self._file(sha256), record)

    def forget(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # contextlib: loaded already (runpy, site)
            os.unlink(self._file(sha256))

    def all(self) -> list[dict[str, Any]]:
        try:
            names = sorted(os.listdir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            names = []
        found = []
        for sha256 in (name[:-5] for name in names if name.endswith(".json")):
            record = self.get(sha256)
            if record is not None:
                found.append({"sha256": sha256, **record})
        return found
