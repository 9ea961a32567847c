"""YAML documents cached as loaded: a playbook or configuration read again unchanged is not parsed again.

Parsing a document with PyYAML, and importing PyYAML to do it (about 10 ms of every ``medic run``'s start-up,
bench/README-logs.md), is the same work on every run of an unchanged file. :func:`load_file` keeps what the loader
(:mod:`medic.kernel.yamlload`) returned, its marks included (:mod:`medic.kernel.marks`), as JSON in
``$XDG_CACHE_HOME/medic/yaml/`` (one file per document path), keyed by the document's exact bytes (their length
and two checksums), medic's version and Python's; an entry whose key differs, or that cannot be read, is a miss.
Only documents that loaded without a problem are written, and the caller validates what it gets on every load, so
bad input gives the same errors with the cache as without it. A document holding a value JSON does not keep
exactly (a date, binary data, a set) is not cached. JSON, not marshal or pickle: reading the cache runs no code.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

from medic.kernel import __version__
from medic.kernel.errors import ValidationError
from medic.kernel.issues import Issue
from medic.kernel.marks import MarkedDict, MarkedList

MAX_BYTES = 2 * 1024 * 1024  # a larger document is refused (yamlload's limits)
KEEP = 256  # entries kept (one per document path): the oldest go when there are more
FORMAT = 1


def read_text(path: str | Path) -> tuple[str, bytes]:
    """The document's text and bytes, refused (located) when missing, unreadable, too large or not UTF-8."""
    p = Path(path)
    try:
        with p.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)  # never more: the path may be a device or a huge log
    except FileNotFoundError:
        raise refused("file not found", str(p)) from None
    except OSError as exc:
        raise refused(f"cannot read file: {exc}", str(p)) from None
    if len(raw) > MAX_BYTES:
        raise refused(f"too large: more than {MAX_BYTES // (1024 * 1024)} MiB", str(p))
    try:
        return raw.decode("utf-8"), raw
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise refused(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8", str(p),
                      line, column) from None


def refused(message: str, filename: str, line: int | None = None, column: int | None = None) -> ValidationError:
    return ValidationError([Issue(message, filename, line, column)], subject=filename)


def load_file(path: str | Path) -> Any:
    """What ``yamlload.load_file(path)`` returns (the same data, marks and errors), from the cache when the file's
    bytes are those cached."""
    text, raw = read_text(path)
    key = [*setting(), len(raw), zlib.crc32(raw), zlib.adler32(raw)]
    entry = entry_path(path)
    found = _read(entry, key)
    if found is not None:
        return found[0]
    from medic.kernel import yamlload  # a miss: parse with PyYAML, as without the cache

    data = yamlload.loads(text, str(path))
    _write(entry, key, data)
    return data


def setting() -> list[Any]:
    """What else the loaded data depends on: medic's and Python's versions, the loader's own files (a checkout
    being edited keeps its version), the import path's directories (installing or upgrading PyYAML changes
    its site-packages directory's time, as for the plugin index)."""
    here = os.path.dirname(__file__)
    files = [os.path.join(here, name) for name in ("yamlload.py", "marks.py", "yamlcache.py")]
    return [FORMAT, __version__, sys.version, [_stamp(f) for f in files], [_stamp(p) for p in sys.path]]


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path or ".")
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def loads(text: str, filename: str = "<string>") -> Any:
    """``yamlload.loads`` (a text is not cached), PyYAML imported only now."""
    from medic.kernel import yamlload

    return yamlload.loads(text, filename)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "medic" / "yaml"


def entry_path(path: str | Path) -> Path:
    where = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return cache_dir() / f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}.json"


def _read(entry: Path, key: list[Any]) -> tuple[Any] | None:
    """The cached data as a 1-tuple (the document may be None), or None on a miss."""
    try:
        with open(entry, encoding="utf-8") as fh:
            cached = json.load(fh)
        if cached["key"] != key:
            return None
        return (decode(cached["data"]),)
    except (OSError, ValueError, KeyError, TypeError, IndexError):  # absent, torn or not ours: parse again
        return None


def _write(entry: Path, key: list[Any], data: Any) -> None:
    """Cache ``data``; a value JSON cannot keep, or a directory that cannot be written, means no entry."""
    try:
        text = json.dumps({"key": key, "data": encode(data)}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # 0600 from the first byte: a copy of the user's playbook or configuration is the user's alone
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, entry)  # readers see the old entry or the new one, never half of one
    except OSError:
        return
    _prune(entry.parent)


def _prune(directory: Path) -> None:
    import contextlib  # here: only a miss pays for it

    try:
        found = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(directory) if e.name.endswith(".json")]
    except OSError:
        return
    for _mtime, stale in sorted(found, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


def encode(value: Any) -> Any:
    """The loaded data as JSON values: a mapping ``["d", mark, [[key, key mark, value]...]]``, a list ``["l",
    mark, [[item mark, item]...]]``, scalars as themselves. TypeError for anything else (not cached)."""
    kind = type(value)
    if kind is MarkedDict:
        marks = value.key_marks
        return ["d", value.mark, [[k, marks.get(k), encode(v)] for k, v in value.items()]]
    if kind is MarkedList:
        return ["l", value.mark, [[value.item_marks[i], encode(v)] for i, v in enumerate(value)]]
    if value is None or kind in (str, int, float, bool):
        return value
    raise TypeError(f"not cached: {kind.__name__}")


def decode(value: Any) -> Any:
    if type(value) is not list:
        return value
    tag, mark, entries = value
    if tag == "d":
        out = MarkedDict()
        out.mark, out.key_marks = tuple(mark), {}
        for key, key_mark, item in entries:
            out[key] = decode(item)
            if key_mark is not None:
                out.key_marks[key] = tuple(key_mark)
        return out
    if tag != "l":
        raise ValueError(f"unknown entry {tag!r}")
    items = MarkedList(decode(item) for _m, item in entries)
    items.mark, items.item_marks = tuple(mark), [tuple(m) for m, _item in entries]
    return items
