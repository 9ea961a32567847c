"""The leak scan's precision on this machine's real files: /etc, /var/log and the logs and examples Debian
packages ship under /usr/share/doc (gdb's test log, OpenJDK's test reports...), raw, not scrubbed.

A scanner that blocks ordinary bundles gets switched off by habit, so the target is at most one false
positive per 100 MB. What it finds is printed (rule, file, line, masked excerpt). A finding counts as true
when it is in TRUE_SECRETS: secrets a person reviewed on this machine (host private keys, sample keys and a
literal password Debian ships); everything else is a false positive.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

from medic.agent.redact import LeakHit, scan_text

ROOTS = (Path("/etc"), Path("/var/log"))
DOC = Path("/usr/share/doc")
MAX_FILE = 64 * 1024 * 1024
FALSE_POSITIVES_PER_100MB = 1.0
# (file pattern, rule): reviewed true findings on a stock Debian machine
TRUE_SECRETS = (
    (r"/etc/ssh/ssh_host_\w+_key", "private_key"),  # the host's own SSH private keys
    (r"/etc/(?:g)?shadow-?", "password_hash"),  # password hashes, if an account has a password
    (r"/etc/ssl/private/.*", "private_key"),
    (r"/etc/ssl/openssl\.cnf", "secret_assignment"),  # `secret = pass:insta`, OpenSSL's sample CMP password
    (r"/usr/share/doc/.*\.(?:pem|key)", "private_key"),  # sample keys shipped as files
    (r"/usr/share/doc/.*/examples/.*", "private_key"),  # PEM private keys inside example programs
    # literal sample passwords in examples: password => 'fred', dbpass=bananarama, # Password: tanstaaf...,
    # $bindpasswd = "foobar"
    (r"/usr/share/doc/libauthen-sasl-perl/examples/compat_pl", "secret_assignment"),
    (r"/usr/share/doc/dbconfig-common/examples/.*/oldconf\.conf", "secret_assignment"),
    (r"/usr/share/doc/exim4-base/examples/cramtest\.pl", "secret_assignment"),
    (r"/usr/share/doc/libnet-ldap-perl/examples/recursive-ldap-delete\.pl", "secret_assignment"),
    # `static const char secret_data[] = "Big secret"`: the sample plaintext xmlsec's examples encrypt, a literal
    # under a secret's name (read since C arrays are a key form; `secret_data = "Big secret"` always was)
    (r"/usr/share/doc/libxmlsec1-dev/examples/encrypt\d\.c", "secret_assignment"),
    (r"/etc/chromium\.d/apikeys", "secret_assignment"),  # the API key and client secret Google gave Debian
    (r"/etc/chromium\.d/apikeys", "token_format"),
    (r"/usr/share/doc/nettle-dev/examples/hogweed-benchmark\.c", "high_entropy"),  # benchmark RSA/DSA private keys
)


def _files() -> Iterator[tuple[str, bytes]]:
    for root in (*ROOTS, DOC):
        for path in sorted(root.rglob("*")) if root.is_dir() else ():
            name = str(path)
            if root == DOC and not (".log" in path.name or "/examples/" in name or name.endswith(".tar.gz")):
                continue
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE:
                    continue
                raw = path.read_bytes()
                if path.suffix == ".gz":
                    raw = gzip.decompress(raw)
            except (OSError, EOFError, gzip.BadGzipFile):
                continue
            if name.endswith((".tar.gz", ".tgz")):
                yield from _tar_members(name, raw)
            elif b"\0" not in raw[:4096]:
                yield name, raw


def _tar_members(name: str, raw: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for member in tar.getmembers():
                data = tar.extractfile(member) if member.isfile() else None
                content = data.read() if data else b""
                if content and b"\0" not in content[:4096]:
                    yield f"{name}!{member.name}", content
    except (tarfile.TarError, OSError):
        return


def _true(hit: LeakHit) -> bool:
    return any(re.fullmatch(pattern, hit.member) and hit.rule == rule for pattern, rule in TRUE_SECRETS)


def test_false_positives_on_this_machines_real_files() -> None:
    scanned, hits = 0, []
    for name, raw in _files():
        scanned += len(raw)
        hits.extend(scan_text(raw.decode("utf-8", "replace"), name))
    false = [h for h in hits if not _true(h)]
    for hit in hits:
        print(("TRUE  " if _true(hit) else "FALSE ") + str(hit)[:200])
    rate = len(false) / (scanned / 100e6)
    print(f"scanned {scanned / 1e6:.1f} MB: {len(hits)} finding(s), {len(false)} false: {rate:.2f} per 100 MB")
    assert scanned > 2e6  # /etc and /var/log of a real machine, not an empty container
    assert rate <= FALSE_POSITIVES_PER_100MB, [str(h) for h in false]


def test_host_keys_on_this_machine_are_found() -> None:
    """The same scan is not quiet because it is blind: this machine's SSH host private keys are found."""
    keys = [p for p in Path("/etc/ssh").glob("ssh_host_*_key") if os.access(p, os.R_OK)]
    for key in keys:
        assert [h.rule for h in scan_text(key.read_text(), str(key))] == ["private_key"]
