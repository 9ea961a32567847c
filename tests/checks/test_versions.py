"""Version ordering: Debian's agrees with the real `dpkg --compare-versions`, Python's is PEP 440, and the
software checks say which one they used and refuse a minimum that is no version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medic.kernel.params import ParamError, coerce_value
from medic.plugins.checks.software import command_version, package_installed
from medic.plugins.checks.versions import VersionError, compare, debian_compare, is_version

DPKG = shutil.which("dpkg")

_run = st.text("0123456789", min_size=1, max_size=3)
_chars = st.text("09abzAZ.+~", min_size=0, max_size=3)
_upstream = st.builds(lambda d, rest: d + "".join(rest), _run, st.lists(st.one_of(_run, _chars), max_size=4))
_revision = st.lists(st.one_of(_run, st.text("0aZ.+~", min_size=1, max_size=3)), min_size=1, max_size=3).map("".join)
debian_versions = st.builds(
    lambda epoch, upstream, revision: (f"{epoch}:" if epoch is not None else "") + upstream
    + (f"-{revision}" if revision is not None else ""),
    st.one_of(st.none(), st.integers(0, 3)),
    _upstream,
    st.one_of(st.none(), _revision),
)


def dpkg_compare(a: str, b: str) -> int:
    def holds(op: str) -> bool:
        proc = subprocess.run([DPKG, "--compare-versions", a, op, b], capture_output=True, check=False)
        assert proc.returncode in (0, 1) and not proc.stderr, (a, op, b, proc.stderr)
        return proc.returncode == 0

    return -1 if holds("lt") else 0 if holds("eq") else 1


@pytest.mark.skipif(DPKG is None, reason="dpkg is not installed")
@settings(max_examples=300, deadline=None)
@given(debian_versions, debian_versions)
@example("1.2.3~beta1", "1.2.3")
@example("1.0", "1.0-0")
@example("1:0.1", "2.0")
@example("1.0~", "1.0~~")
@example("1.0a", "1.0+")
@example("1.001", "1.1")
def test_debian_ordering_agrees_with_dpkg(a: str, b: str) -> None:
    assert debian_compare(a, b) == dpkg_compare(a, b), (a, b)


@given(debian_versions, debian_versions, debian_versions)
@settings(max_examples=100, deadline=None)
def test_debian_ordering_is_a_total_order(a: str, b: str, c: str) -> None:
    assert debian_compare(a, b) == -debian_compare(b, a)
    if debian_compare(a, b) <= 0 and debian_compare(b, c) <= 0:
        assert debian_compare(a, c) <= 0


@pytest.mark.parametrize(
    ("found", "minimum", "expected"),
    [
        ("1.2.3~beta1", "1.2.3", (-1, "debian")),
        ("1.0rc1", "1.0", (-1, "python")),
        ("3.10.2", "3.9", (1, "python")),
        ("1.1.1w", "1.1.1", (1, "debian")),
        ("2:1.0", "3.0", (1, "debian")),
        ("2.9.1-1ubuntu2", "2.9.1-1ubuntu10", (-1, "debian")),
    ],
)
def test_auto_scheme(found: str, minimum: str, expected: tuple[int, str]) -> None:
    assert compare(found, minimum) == expected


def test_unreadable_versions() -> None:
    for bad in ("abc", "", "v", "1.0-", ":1", "1.0 beta"):
        assert not is_version(bad), bad
        with pytest.raises(VersionError, match="version such as"):
            debian_compare(bad, "1")
    with pytest.raises(VersionError, match="PEP 440"):
        compare("1.1.1w", "1", "python")
    with pytest.raises(ParamError, match=r"minimum_version: got str 'abc', expected a version such as 1\.2\.3"):
        coerce_value("version", "abc", "minimum_version")
    assert coerce_value("version", 1.10, "v") == "1.1"  # YAML's number, read as the text it was
    assert coerce_value("version", "1.2.3~beta1", "v") == "1.2.3~beta1"


def _version_output(text: str) -> dict[str, object]:
    return {"out": {"found": True, "error": None, "stdout": text, "stderr": "", "exit_code": 0}}


def test_command_version_says_which_scheme() -> None:
    params = {"command": ["tool", "--version"], "minimum": "1.0", "pattern": r"(\d\S*)", "scheme": "auto"}
    low = command_version(_version_output("tool 1.0rc1\n"), params)
    assert low.status == "fail" and "python" in low.summary and low.evidence["scheme"] == "python"
    tilde = command_version(_version_output("tool 1.0~beta1\n"), params)
    assert tilde.status == "fail" and tilde.evidence["scheme"] == "debian", tilde.summary
    ok = command_version(_version_output("tool 1.0\n"), params)
    assert ok.status == "pass" and ok.evidence["scheme"] == "python"
    odd = command_version(_version_output("tool 1.0-beta.x+y\n"), {**params, "scheme": "python"})
    assert odd.status == "error" and "PEP 440" in odd.summary


def test_command_version_without_a_minimum_reports_any_version_text() -> None:
    params = {"command": ["tool", "--version"], "minimum": "0", "pattern": r"version (\S+)", "scheme": "auto"}
    found = command_version(_version_output("tool version nightly-build_7\n"), params)
    assert found.status == "pass" and found.evidence["version"] == "nightly-build_7", found.summary
    strict = command_version(_version_output("tool version nightly-build_7\n"), {**params, "minimum": "1.0"})
    assert strict.status == "error" and "nightly-build_7" in strict.summary


def test_package_installed_uses_the_managers_ordering() -> None:
    data = {"pkgs": {"manager": "dpkg", "packages": {"openssl": "3.0.2~rc1-1", "bash": "5.1-6ubuntu1"}}}
    params = {"names": ["openssl", "bash"], "manager": "auto", "minimum": "3.0.2", "scheme": "auto"}
    old, new = package_installed(data, params)
    assert old.status == "fail" and old.evidence["scheme"] == "debian"
    assert new.status == "pass" and new.evidence["scheme"] == "debian"  # 5.1-6ubuntu1 >= 3.0.2
    epoch = {"pkgs": {"manager": "dpkg", "packages": {"openssl": "1:1.1.1n-0+deb11u5"}}}
    (upstream,) = package_installed(epoch, {**params, "names": ["openssl"], "minimum": "3.0"})
    assert upstream.status == "fail"  # openssl 1.1.1n, whatever its packaging epoch
    (with_epoch,) = package_installed(epoch, {**params, "names": ["openssl"], "minimum": "2:0.1"})
    assert with_epoch.status == "fail" and "debian ordering" in with_epoch.summary
    (newer,) = package_installed(epoch, {**params, "names": ["openssl"], "minimum": "1:1.1.1"})
    assert newer.status == "pass"
    pip = {"pkgs": {"manager": "pip", "packages": {"rich": "14.0.0rc1"}}}
    (rc,) = package_installed(pip, {**params, "names": ["rich"], "minimum": "14.0"})
    assert rc.status == "fail" and rc.evidence["scheme"] == "python"


def test_a_minimum_version_that_is_no_version_is_an_input_error() -> None:
    env = {**os.environ, "MEDIC_ENGINE": "inline", "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "medic.cli.main", "run", "triage", "-i", "minimum_version=abc"],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 2, out.stderr
    assert "minimum_version: got str 'abc', expected a version such as 1.2.3" in out.stderr
    assert "Traceback" not in out.stderr, out.stderr
