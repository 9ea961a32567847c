"""``medic-agent upload BUNDLE [--keep] [--json] [--chunk-size N] [--retries N]`` read without argparse.

Every kill -9 of an upload starts a new process, and argparse's import plus the building of the whole command's
parser (every subcommand, every collect option) were 7-9 ms of its CPU before its first byte is resumed
(bench/README-collector.md, session 13). This reads only the plain spellings of the upload command; anything else
(an abbreviation, ``--opt=`` forms past these, a repeated option, ``--``, ``-h``, a name starting with ``-``, a
number that is not plain digits, a mistake) answers None and the full argparse parser reads the line as before, so
every message and every edge case stays argparse's. tests/agent/uplink/test_uploadargs.py checks that both
readers agree on every line this one accepts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: every restart of the agent pays its imports
if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_CHUNK = 32 * 1024 * 1024  # bytes per PATCH: the --chunk-size default of uplinkcli.transfer_options
DEFAULT_RETRIES = 8
FLAGS = {"--keep": "keep", "--json": "json"}
NUMBERS = {"--chunk-size": "chunk_size", "--retries": "retries"}


class UploadArgs:
    """The attributes `medic-agent upload` reads from argparse's Namespace (uplinkcli.run, upload_bundle)."""

    def __init__(self, bundle: str, keep: bool, json: bool, chunk_size: int, retries: int) -> None:
        self.command = "upload"
        self.bundle, self.keep, self.json, self.chunk_size, self.retries = bundle, keep, json, chunk_size, retries


def upload_args(argv: Sequence[str]) -> UploadArgs | None:
    """The upload command's arguments when ``argv`` spells them plainly, else None (argparse reads it)."""
    if not argv or argv[0] != "upload":
        return None
    bundle: str | None = None  # a str, not a Path: pathlib is not imported by a restart (uplink/state.py)
    flags: dict[str, bool] = {}
    numbers: dict[str, int] = {}
    words = list(argv[1:])
    while words:
        word = words.pop(0)
        name, equals, value = word.partition("=")
        if word in FLAGS and FLAGS[word] not in flags:
            flags[FLAGS[word]] = True
        elif name in NUMBERS and NUMBERS[name] not in numbers:
            if not equals:
                value = words.pop(0) if words else ""
            if not (value.isascii() and value.isdigit()):
                return None
            numbers[NUMBERS[name]] = int(value)
        elif word and not word.startswith("-") and bundle is None:
            bundle = word
        else:
            return None
    if bundle is None:
        return None
    return UploadArgs(bundle, flags.get("keep", False), flags.get("json", False),
                      numbers.get("chunk_size", DEFAULT_CHUNK), numbers.get("retries", DEFAULT_RETRIES))
