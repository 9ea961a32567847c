"""Configuration probes: checksums, one key of a config file, directory sizes, lock files."""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import time
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.params import Param
from medic.kernel.probe import probe
from medic.probes.security import expand

MAX_CONFIG = 4 * 1024 * 1024
SENSITIVE_KEY = re.compile(
    r"(?i)(pass(word|wd)?|secret|secret[_-]?key|token|api[_-]?key|private[_-]?key|credentials?)$"
)


@probe(
    "file_checksum",
    params=[
        Param("paths", "list", description="files or glob patterns", items="string"),
        Param("algorithm", "string", "sha256", "hash algorithm", choices=("sha256", "sha1", "md5")),
    ],
    description="Content hash of each file (streamed), for drift detection against a baseline.",
)
def file_checksum(paths: list[str], algorithm: str = "sha256") -> dict[str, Any]:
    sums: dict[str, str | None] = {}
    for pattern in paths:
        matched = expand([pattern], False)
        if not matched:
            sums[pattern] = None
        for p in matched:
            if not os.path.isfile(p):
                continue
            h = hashlib.new(algorithm)
            with open(p, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
            sums[p] = h.hexdigest()
    return {"algorithm": algorithm, "files": sums}


def _detect(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {
        ".json": "json",
        ".yaml": "yaml",
        ".yml": "yaml",
        ".ini": "ini",
        ".cfg": "ini",
        ".conf": "kv",
        ".env": "kv",
        ".properties": "kv",
    }.get(ext, "kv")


def parse_kv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        key, sep, value = s.partition("=")
        if not sep:
            parts = s.split(None, 1)  # `key value` (sshd, postgresql.conf style)
            key, value = parts[0], parts[1] if len(parts) > 1 else ""
        value = value.split(" #", 1)[0].strip().strip('"').strip("'")
        out.setdefault(key.strip().removeprefix("export ").strip(), value)
    return out


def lookup(doc: Any, key: str) -> tuple[bool, Any]:
    node = doc
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _parse(text: str, fmt: str) -> Any:
    if fmt == "json":
        return json.loads(text)
    if fmt == "yaml":
        try:
            import yaml
        except ImportError:
            raise ProbeUnavailable("reading YAML needs PyYAML on the target") from None
        return yaml.safe_load(text)
    if fmt == "ini":
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.read_string(text)
        doc: dict[str, Any] = {s: dict(cp[s]) for s in cp.sections()}
        doc.update(cp.defaults())
        return doc
    return parse_kv(text)


@probe(
    "config_value",
    params=[
        Param("path", "string", description="configuration file"),
        Param(
            "key", "string", description="dotted key: section.key (INI), a.b.0 (JSON/YAML), key (key=value)"
        ),
        Param("format", "string", "auto", "file format", choices=("auto", "ini", "json", "yaml", "kv")),
    ],
    description="One key's value from an INI, JSON, YAML or key=value file (only that value is returned).",
)
def config_value(path: str, key: str, format: str = "auto") -> dict[str, Any]:
    fmt = _detect(path) if format == "auto" else format
    if not os.path.isfile(path):
        return {"path": path, "exists": False, "format": fmt, "found": False, "value": None}
    if os.path.getsize(path) > MAX_CONFIG:
        raise ValueError(f"{path} is larger than {MAX_CONFIG} bytes; not a configuration file")
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    try:
        doc = _parse(text, fmt)
    except (ValueError, configparser.Error) as exc:
        return {
            "path": path,
            "exists": True,
            "format": fmt,
            "found": False,
            "value": None,
            "parse_error": str(exc).splitlines()[0][:300],
        }
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        return {
            "path": path,
            "exists": True,
            "format": fmt,
            "found": False,
            "value": None,
            "parse_error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
        }
    found, value = lookup(doc, key)
    if isinstance(value, (dict, list)):
        value = (
            json.loads(json.dumps(value, default=str)[:2000])
            if len(json.dumps(value, default=str)) <= 2000
            else f"<{type(value).__name__} of {len(value)} entries>"
        )
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        value = str(value)
    out = {"path": path, "exists": True, "format": fmt, "found": found, "value": value}
    if found and SENSITIVE_KEY.search(key.rsplit(".", 1)[-1]):  # never ship a secret: a digest to compare
        out.update(value="***", masked=True, value_sha256=hashlib.sha256(str(value).encode()).hexdigest())
    return out


@probe(
    "dir_size",
    params=[
        Param("paths", "list", description="directories (globs allowed)", items="string"),
        Param("max_entries", "int", 200000, "stop counting after this many entries"),
        Param("top", "int", 5, "largest sub-directories to report"),
    ],
    description="Total size and file count of directories (like du -s, bounded), with the largest children.",
    cost=3,
)
def dir_size(paths: list[str], max_entries: int = 200000, top: int = 5) -> dict[str, Any]:
    out = []
    for d in expand(paths, False):
        if not os.path.isdir(d):
            continue
        total, files, seen, truncated = 0, 0, 0, False
        children: dict[str, int] = {}
        for root, dirs, names in os.walk(d, onerror=lambda _e: None):
            child = os.path.relpath(root, d).split(os.sep)[0]
            for n in names:
                try:
                    size = os.lstat(os.path.join(root, n)).st_blocks * 512
                except OSError:
                    continue
                total += size
                files += 1
                if child != ".":
                    children[child] = children.get(child, 0) + size
            seen += len(names) + len(dirs)
            if seen >= max_entries:
                truncated = True
                break
        biggest = sorted(children.items(), key=lambda kv: -kv[1])[:top]
        out.append(
            {
                "path": d,
                "bytes": total,
                "files": files,
                "truncated": truncated,
                "largest": [{"name": k, "bytes": v} for k, v in biggest],
            }
        )
    return {"directories": out}


def _pid_in(path: str) -> int | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).split()
        return int(head[0]) if head and head[0].isdigit() else None
    except (OSError, ValueError):
        return None


@probe(
    "lock_files",
    params=[Param("paths", "list", description="lock/pid/session files or glob patterns", items="string")],
    description="Lock, pid and session files: age, size, the PID written in them and whether it is alive.",
)
def lock_files(paths: list[str]) -> dict[str, Any]:
    now = time.time()
    out = []
    for p in expand(paths, False)[:500]:
        try:
            st = os.stat(p)
        except OSError:
            continue
        if not os.path.isfile(p):
            continue
        pid = _pid_in(p) if st.st_size <= 64 else None
        alive = None if pid is None else os.path.exists(f"/proc/{pid}") if os.path.isdir("/proc") else None
        out.append(
            {
                "path": p,
                "age_s": round(now - st.st_mtime, 1),
                "size_bytes": st.st_size,
                "pid": pid,
                "pid_alive": alive,
            }
        )
    return {"files": out}
