"""Security probes: firewall rules, sshd configuration, file modes, certificate files."""

from __future__ import annotations

import glob
import os
import shutil
import ssl
import stat
import subprocess
from pathlib import Path
from typing import Any

from medic.kernel.errors import ProbeUnavailable
from medic.kernel.filetype import file_type
from medic.kernel.params import Param
from medic.kernel.probe import Command, probe

MAX_PATHS = 2000


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv,
        capture_output=True,
        timeout=20,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "LC_ALL": "C"},
    )


def summarise_nft(text: str) -> dict[str, Any]:
    rules, chains, policies = 0, 0, {}
    chain = ""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("chain "):
            chains += 1
            chain = s.split()[1]
        elif s.startswith("type ") and "policy" in s:
            policies[chain] = s.rsplit("policy", 1)[1].strip(" ;")
        elif s and not s.startswith(("table ", "}", "type ", "#", "set ", "elements", "map ", "flags")):
            rules += 1
    return {"tool": "nft", "chains": chains, "rules": rules, "policies": policies}


def summarise_iptables(text: str) -> dict[str, Any]:
    rules, policies = 0, {}
    chains = 0
    for line in text.splitlines():
        if line.startswith(":"):
            f = line[1:].split()
            chains += 1
            if len(f) > 1 and f[1] != "-":
                policies[f[0]] = f[1].lower()
        elif line.startswith("-A "):
            rules += 1
    return {"tool": "iptables", "chains": chains, "rules": rules, "policies": policies}


NFT_RULESET = Command.fixed(["nft", "list", "ruleset"], lambda text, _params: summarise_nft(text))
IPTABLES_SAVE = Command.fixed(["iptables-save"], lambda text, _params: summarise_iptables(text))


@probe(
    "firewall_rules",
    description="Firewall rule counts and chain policies (nft list ruleset, else iptables-save).",
    cost=2,
)
def firewall_rules() -> dict[str, Any]:
    errors = []
    if shutil.which("nft"):
        proc = _run(NFT_RULESET.argv({}))
        if proc.returncode == 0:
            return dict(NFT_RULESET.parse(proc.stdout.decode(errors="replace"), {}))
        errors.append(f"nft: {proc.stderr.decode(errors='replace').strip()[:200]}")
    if shutil.which("iptables-save"):
        proc = _run(IPTABLES_SAVE.argv({}))
        if proc.returncode == 0:
            return dict(IPTABLES_SAVE.parse(proc.stdout.decode(errors="replace"), {}))
        errors.append(f"iptables-save: {proc.stderr.decode(errors='replace').strip()[:200]}")
    raise ProbeUnavailable("; ".join(errors) or "neither nft nor iptables-save is installed")


def parse_sshd_config(path: str, depth: int = 0) -> tuple[dict[str, str], list[str]]:
    """Global settings of an sshd_config with Include expanded; like sshd, the first value of a key wins."""
    settings: dict[str, str] = {}
    files = [path]
    for line in Path(path).read_text(errors="replace").splitlines():
        f = line.split("#", 1)[0].strip().split(None, 1)
        if len(f) < 2:
            continue
        key, value = f[0].lower(), f[1].strip().strip('"')
        if key == "match":
            break  # settings after the first Match block apply only to matching connections
        if key == "include" and depth < 5:
            for pattern in value.split():
                full = pattern if pattern.startswith("/") else os.path.join(os.path.dirname(path), pattern)
                for inc in sorted(glob.glob(full)):
                    sub, sub_files = parse_sshd_config(inc, depth + 1)
                    files += sub_files
                    for k, v in sub.items():
                        settings.setdefault(k, v)
            continue
        settings.setdefault(key, value)
    return settings, files


@probe(
    "sshd_config",
    params=[Param("path", "string", "/etc/ssh/sshd_config", "sshd configuration file")],
    description="Global sshd settings (Include expanded, first value wins, Match blocks left out).",
)
def sshd_config(path: str = "/etc/ssh/sshd_config") -> dict[str, Any]:
    if not os.path.exists(path):
        raise ProbeUnavailable(f"{path}: no such file (is an SSH server installed?)")
    settings, files = parse_sshd_config(path)
    return {"path": path, "files": files, "settings": settings}


def expand(paths: list[str], recursive: bool) -> list[str]:
    out: list[str] = []
    for pattern in paths:
        for p in sorted(glob.glob(pattern)) or ([pattern] if os.path.lexists(pattern) else []):
            out.append(p)
            if recursive and os.path.isdir(p) and not os.path.islink(p):
                for root, dirs, names in os.walk(p):
                    dirs.sort()
                    out += [os.path.join(root, n) for n in sorted(dirs + names)]
                    if len(out) > MAX_PATHS:
                        break
        if len(out) > MAX_PATHS:
            break
    return out[:MAX_PATHS]


@probe(
    "path_modes",
    params=[
        Param("paths", "list", description="paths or glob patterns", items="string"),
        Param("recursive", "bool", False, "descend into directories"),
    ],
    description="Type, permission bits and owner of paths (globs expanded, at most 2000 entries).",
)
def path_modes(paths: list[str], recursive: bool = False) -> dict[str, Any]:
    entries = []
    listed = expand(paths, recursive)
    for p in listed:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        kind = file_type(st.st_mode)
        entries.append(
            {
                "path": p,
                "type": kind,
                "mode": f"{stat.S_IMODE(st.st_mode):04o}",
                "uid": st.st_uid,
                "gid": st.st_gid,
            }
        )
    return {"entries": entries, "truncated": len(listed) >= MAX_PATHS}


def _decode_cert(path: str) -> dict[str, Any]:
    try:
        cert = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
        names = dict(x[0] for x in cert.get("subject", ()))
        return {
            "not_after": float(ssl.cert_time_to_seconds(cert["notAfter"])),
            "subject": names.get("commonName", ""),
        }
    except (AttributeError, ssl.SSLError, KeyError, ValueError):
        pass
    if shutil.which("openssl"):
        proc = _run(["openssl", "x509", "-noout", "-enddate", "-subject", "-in", path])
        if proc.returncode == 0:
            lines = proc.stdout.decode(errors="replace").splitlines()
            end = next((x.split("=", 1)[1] for x in lines if x.startswith("notAfter=")), "")
            subject = next((x.split("=", 1)[1].strip() for x in lines if x.startswith("subject=")), "")
            return {"not_after": float(ssl.cert_time_to_seconds(end)), "subject": subject}
    raise ValueError("not a PEM certificate")


@probe(
    "cert_files",
    params=[Param("paths", "list", description="certificate files or glob patterns (PEM)", items="string")],
    description="Subject and expiry (notAfter) of the first certificate in each PEM file.",
)
def cert_files(paths: list[str]) -> dict[str, Any]:
    out = []
    for p in expand(paths, False)[:500]:
        if not os.path.isfile(p):
            continue
        try:
            out.append({"path": p, **_decode_cert(p), "error": None})
        except (OSError, ValueError) as exc:
            out.append({"path": p, "not_after": None, "subject": "", "error": str(exc)})
    return {"certificates": out}
