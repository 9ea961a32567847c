"""Compiled first-pass databases stored between runs (medic.agent.hscache): used only whole and private."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medic.agent import firstpass, hscache
from medic.agent.redact import Scrubber

needs_hyperscan = pytest.mark.skipif(not firstpass.available(), reason="hyperscan is not installed here")
_TEXT = "cache miss for key=user:1 session ok\npassword=hunter2x\napi_key: ghp_aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5\n"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "hs"
    monkeypatch.setenv("MEDIC_AGENT_CACHE_DIR", str(folder))
    return folder


def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first pass as a new process finds it: nothing made or compiled yet."""
    monkeypatch.delenv("MEDIC_REDACT_ENGINE", raising=False)
    for table in ("_BUILT", "_PENDING", "_OFFERED"):
        monkeypatch.setattr(firstpass, table, {})
    monkeypatch.setattr(firstpass, "_FAILED", [])


def test_stored_bytes_come_back_whole(cache: Path) -> None:
    hscache.store("a.hsdb", b"\x00database\xff" * 1000)
    assert hscache.load("a.hsdb") == b"\x00database\xff" * 1000
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert hscache.load("other.hsdb") is None


@pytest.mark.parametrize("damage", ["tail", "truncated", "magic", "empty"])
def test_a_damaged_file_is_refused(cache: Path, damage: str) -> None:
    hscache.store("a.hsdb", b"x" * 5000)
    path = cache / "a.hsdb"
    data = path.read_bytes()
    flipped = data[:-10] + bytes(b ^ 0xFF for b in data[-10:])  # (hyperscan.loadb alone takes that: measured)
    changed = {"tail": flipped, "truncated": data[:-1], "magic": b"M" + data[1:], "empty": b""}
    path.write_bytes(changed[damage])
    assert hscache.load("a.hsdb") is None


def test_a_file_others_can_write_or_a_link_is_refused(cache: Path, tmp_path: Path) -> None:
    hscache.store("a.hsdb", b"payload")
    os.chmod(cache / "a.hsdb", 0o664)
    assert hscache.load("a.hsdb") is None
    os.chmod(cache / "a.hsdb", 0o600)
    assert hscache.load("a.hsdb") == b"payload"
    (tmp_path / "elsewhere").write_bytes((cache / "a.hsdb").read_bytes())
    os.symlink(tmp_path / "elsewhere", cache / "b.hsdb")
    assert hscache.load("b.hsdb") is None
    os.chmod(cache, 0o777)
    assert hscache.load("a.hsdb") is None
    hscache.store("c.hsdb", b"payload")  # (nothing written into a directory others can write)
    assert not (cache / "c.hsdb").exists()


def test_an_empty_setting_stores_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIC_AGENT_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    hscache.store("a.hsdb", b"payload")
    assert hscache.load("a.hsdb") is None and list(tmp_path.iterdir()) == []


def test_the_default_place_is_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MEDIC_AGENT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert hscache.directory() == str(tmp_path / "medic-agent" / "hyperscan")


def test_names_follow_patterns_flags_and_version() -> None:
    names = {hscache.key("0.9", ["a"], 0), hscache.key("0.9", ["a", "b"], 0), hscache.key("0.9", ["ab"], 0),
             hscache.key("0.9", ["a"], 8), hscache.key("1.0", ["a"], 0)}
    assert len(names) == 5 and hscache.key("0.9", ["a"], 0) == hscache.key("0.9", ["a"], 0)


@needs_hyperscan
def test_a_later_run_uses_the_stored_databases_without_compiling(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_process(monkeypatch)
    monkeypatch.setattr(firstpass, "HEAVY_AFTER", 0)
    first = Scrubber().scrub_text(_TEXT * 20)
    built = set(firstpass._BUILT)
    stored = sorted(cache.iterdir())
    assert {"line-marks-spots", "vendor-words"} <= built and len(stored) == len(built)

    def no_compile(self: firstpass.Matcher) -> None:
        raise AssertionError("compiled although stored")

    _fresh_process(monkeypatch)
    monkeypatch.setattr(firstpass, "HEAVY_AFTER", 10**12)  # (a small text: heavy ones only if stored)
    monkeypatch.setattr(firstpass.Matcher, "compile", no_compile)
    assert Scrubber().scrub_text(_TEXT * 20) == first
    assert set(firstpass._BUILT) == built
    assert sorted(cache.iterdir()) == stored


@needs_hyperscan
def test_a_damaged_database_is_compiled_again_with_the_same_output(cache: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_process(monkeypatch)
    expected = Scrubber().scrub_text(_TEXT * 20)
    for path in cache.iterdir():
        data = path.read_bytes()
        path.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    compiled: list[int] = []
    real = firstpass.Matcher.compile

    def counted(self: firstpass.Matcher) -> None:
        compiled.append(1)
        real(self)

    _fresh_process(monkeypatch)
    monkeypatch.setattr(firstpass.Matcher, "compile", counted)
    assert Scrubber().scrub_text(_TEXT * 20) == expected
    assert compiled and all(hscache.load(path.name) is not None for path in cache.iterdir())


@needs_hyperscan
def test_a_read_only_cache_changes_nothing_but_speed(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.mkdir(mode=0o500)
    _fresh_process(monkeypatch)
    expected = Scrubber().scrub_text(_TEXT * 20)
    if os.geteuid() != 0:  # (root writes anyway)
        assert list(cache.iterdir()) == []
    monkeypatch.setenv("MEDIC_REDACT_ENGINE", "python")
    assert Scrubber().scrub_text(_TEXT * 20) == expected
