"""Configuration checks: file mode/owner, checksum drift against a baseline, a key's value, stale lock
files."""

from __future__ import annotations

from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, Status, failed, passed, warned
from medic.kernel.params import Param
from medic.plugins.checks.shape import mapping


@check(
    "configuration.file_mode",
    title="File exists with expected mode and owner",
    category="configuration",
    severity="medium",
    needs=lambda p: {"st": ProbeCall.make("file_stat", path=p["path"])},
    params=[
        Param("path", "string", description="file or directory"),
        Param("mode", "string", "", "expected permission bits, octal like 0640 (empty: any)"),
        Param("max_mode", "string", "", "fail when bits beyond these are set, e.g. 0644 (empty: any)"),
        Param("uid", "int", -1, "expected owner uid (-1: any)"),
        Param("gid", "int", -1, "expected group gid (-1: any)"),
        Param("owner", "string", "", "expected owner user name (empty: any)"),
        Param("group", "string", "", "expected group name (empty: any)"),
        Param("type", "string", "any", "expected type", choices=("any", "file", "dir", "link")),
    ],
    remediation="Restore it (from the package: apt-get install --reinstall PKG, or a backup) and set the "
    "ownership and mode the application expects (chown USER:GROUP PATH; chmod MODE PATH).",
    description="fail when the path is missing, of another type, has other owner/group or mode than "
    "expected, or more permissive bits than max_mode.",
)
def file_mode(data: ProbeData, p: dict[str, Any]) -> Outcome:
    st = mapping(data, "st")
    if st["exists"] is None:  # the probe could not stat it and says why
        return Outcome(Status.ERROR, f"{p['path']}: cannot inspect: {st.get('error')}", {}, p["path"])
    if not st["exists"]:
        return failed(f"{p['path']} does not exist", subject=p["path"])
    ev = {
        "path": p["path"],
        "type": st["type"],
        "mode": st["mode"],
        "uid": st["uid"],
        "gid": st["gid"],
        "owner": st.get("owner"),
        "group": st.get("group"),
    }
    problems = []
    if p["type"] != "any" and st["type"] != p["type"]:
        problems.append(f"is a {st['type']}, expected a {p['type']}")
    mode = int(st["mode"], 8)
    if p["mode"] and mode != int(p["mode"], 8):
        problems.append(f"mode {st['mode']}, expected {int(p['mode'], 8):04o}")
    if p["max_mode"] and mode & ~int(p["max_mode"], 8):
        problems.append(f"mode {st['mode']} is more permissive than {int(p['max_mode'], 8):04o}")
    if p["uid"] >= 0 and st["uid"] != p["uid"]:
        problems.append(f"owner uid {st['uid']}, expected {p['uid']}")
    if p["gid"] >= 0 and st["gid"] != p["gid"]:
        problems.append(f"group gid {st['gid']}, expected {p['gid']}")
    if p["owner"] and st.get("owner", st["uid"]) != p["owner"]:
        problems.append(f"owner {st.get('owner') or st['uid']}, expected {p['owner']}")
    if p["group"] and st.get("group", st["gid"]) != p["group"]:
        problems.append(f"group {st.get('group') or st['gid']}, expected {p['group']}")
    if problems:
        return failed(f"{p['path']}: " + "; ".join(problems), subject=p["path"], **ev)
    return passed(
        f"{p['path']} {st['type']} {st['mode']} uid {st['uid']} gid {st['gid']}", subject=p["path"], **ev
    )


def baseline_of(p: dict[str, Any]) -> dict[str, str]:
    """path -> digest from the ``baseline`` mapping and ``sums`` lines (sha256sum output: DIGEST  PATH)."""
    out = {str(k): str(v).strip().lower() for k, v in p["baseline"].items()}
    for line in p["sums"]:
        digest, _, path = line.strip().partition(" ")
        if path.strip():
            out[path.strip().lstrip("*")] = digest.lower()  # "*" marks binary mode in sha256sum output
    return out


@check(
    "configuration.checksum_drift",
    title="Files unchanged since baseline",
    category="configuration",
    severity="medium",
    needs=lambda p: {
        "sums": ProbeCall.make("file_checksum", paths=sorted(baseline_of(p)), algorithm=p["algorithm"])
    },
    params=[
        Param("baseline", "mapping", {}, "path -> expected hex digest"),
        Param("sums", "list", [], "baseline lines as sha256sum prints them: DIGEST  PATH", items="string"),
        Param("algorithm", "string", "sha256", "hash algorithm", choices=("sha256", "sha1", "md5")),
    ],
    remediation="Compare the changed file with the recorded version (diff against a backup, or the package: "
    "debsums, rpm -V); restore it or record the intended change as the new baseline.",
    description="One outcome per baseline file (from baseline and sums): fail when missing or its digest "
    "differs; error when no baseline is given.",
)
def checksum_drift(data: ProbeData, p: dict[str, Any]) -> list[Outcome]:
    baseline = baseline_of(p)
    if not baseline:
        return [Outcome(Status.ERROR, "no baseline: give baseline (path: digest) or sums (sha256sum lines)")]
    sums = mapping(data, "sums")["files"]
    out = []
    for path, expected in sorted(baseline.items()):
        got = sums.get(path)
        if got is None:
            out.append(failed(f"{path} is missing", subject=path))
        elif got.lower() != expected:
            text = f"{path} changed ({p['algorithm']} {got[:12]}…, baseline {expected[:12]}…)"
            out.append(failed(text, subject=path, digest=got, baseline=expected))
        else:
            out.append(passed(f"{path} matches the baseline", subject=path, digest=got))
    return out


def _same(found: Any, expected: Any) -> bool:
    if isinstance(found, bool) or isinstance(expected, bool):
        norm = {
            "true": True,
            "yes": True,
            "on": True,
            "1": True,
            "false": False,
            "no": False,
            "off": False,
            "0": False,
        }
        return norm.get(str(found).lower(), found) == norm.get(str(expected).lower(), expected)
    return str(found).strip() == str(expected).strip()


@check(
    "configuration.config_value",
    title="Configuration value as expected",
    category="configuration",
    severity="medium",
    needs=lambda p: {"cfg": ProbeCall.make("config_value", path=p["path"], key=p["key"], format=p["format"])},
    params=[
        Param("path", "string", description="configuration file (INI, JSON, YAML or key=value)"),
        Param("key", "string", description="dotted key: section.key (INI), a.b.0 (JSON/YAML), key"),
        Param("expected", "any", None, "expected value (compared as text; booleans yes/true/on alike)"),
        Param("format", "string", "auto", "file format", choices=("auto", "ini", "json", "yaml", "kv")),
        Param(
            "missing",
            "string",
            "fail",
            "status when the key is absent (it may default)",
            choices=("fail", "warn", "pass"),
        ),
    ],
    remediation="Set the key to the expected value in the file (or the drop-in that overrides it) and "
    "restart/reload the service; when absent, the application's built-in default applies.",
    description="fail when the file is missing or unparsable or the value differs from expected; an absent "
    "key gives the status in missing. With expected null, only presence is checked.",
)
def config_value(data: ProbeData, p: dict[str, Any]) -> Outcome:
    c = mapping(data, "cfg")
    where = f"{p['path']}:{p['key']}"
    if not c["exists"]:
        return failed(f"{p['path']} does not exist", subject=where)
    if c.get("parse_error"):
        return failed(f"{p['path']} is not valid {c['format']}: {c['parse_error']}", subject=where)
    if not c["found"]:
        status = {"fail": Status.FAIL, "warn": Status.WARN, "pass": Status.PASS}[p["missing"]]
        return Outcome(
            status,
            f"{p['key']} is not set in {p['path']} (the default applies)",
            {"format": c["format"]},
            where,
        )
    ev = {"value": c["value"], "expected": p["expected"], "format": c["format"]}
    if c.get("masked"):  # a secret: the probe sent its digest, never the value
        import hashlib  # here: its OpenSSL start-up (~2 ms) is not paid by every run that loads the checks

        ev.update(value="***", expected="***" if p["expected"] is not None else None)
        if p["expected"] is not None and hashlib.sha256(str(p["expected"]).encode()).hexdigest() != c.get(
            "value_sha256"
        ):
            return failed(f"{p['key']} (secret) differs from the expected value", subject=where, **ev)
        return passed(
            f"{p['key']} (secret) is set" + (" as expected" if p["expected"] is not None else ""),
            subject=where,
            **ev,
        )
    if p["expected"] is not None and not _same(c["value"], p["expected"]):
        return failed(f"{p['key']} = {c['value']!r}, expected {p['expected']!r}", subject=where, **ev)
    return passed(f"{p['key']} = {c['value']!r}", subject=where, **ev)


@check(
    "configuration.stale_locks",
    title="Stale lock and session files",
    category="configuration",
    severity="medium",
    needs=lambda p: {"locks": ProbeCall.make("lock_files", paths=p["paths"])},
    params=[
        Param(
            "paths",
            "list",
            ["/var/run/*.pid", "/run/*.pid", "/var/lock/*", "/tmp/*.lock"],
            "lock/pid/session files or globs",
            items="string",
        ),
        Param("max_age_h", "float", 24.0, "warn when a lock without a live PID is older (hours)"),
    ],
    remediation="A lock whose process is gone blocks the application from starting or saving: confirm the "
    "program is not running (ps, fuser PATH), then delete the stale file and retry.",
    description="fail when a file names a PID that is no longer running; warn when a lock without a PID is "
    "older than max_age_h. Evidence lists the files.",
)
def stale_locks(data: ProbeData, p: dict[str, Any]) -> Outcome:
    files = mapping(data, "locks")["files"]
    dead = [
        f"{f['path']} (pid {f['pid']})" for f in files if f["pid"] is not None and f["pid_alive"] is False
    ]
    old = [
        f"{f['path']} ({f['age_s'] / 3600:.0f} h)"
        for f in files
        if f["pid"] is None and f["age_s"] > 3600 * p["max_age_h"]
    ]
    ev: dict[str, Any] = {"inspected": len(files), "dead_pid": dead[:20], "old": old[:20]}
    if dead:
        return failed(f"{len(dead)} lock file(s) of processes no longer running: {', '.join(dead[:3])}", **ev)
    if old:
        return warned(f"{len(old)} lock file(s) older than {p['max_age_h']:g} h: {', '.join(old[:3])}", **ev)
    return passed(f"no stale lock among {len(files)} file(s)", **ev)
