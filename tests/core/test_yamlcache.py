"""The cache of loaded YAML documents: the same data and marks as the loader, the same errors, never stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medic.core.catalog import packaged_dir
from medic.kernel import yamlcache, yamlload
from medic.kernel.errors import ValidationError
from medic.kernel.marks import MarkedDict, MarkedList

DOC = """\
name: sample   # a comment
base: &base {timeout: 1.5, retries: 2, enabled: true, nothing: null}
steps:
  - id: one
    <<: *base
    with: {path: "/var/log/é.log", lines: [1, -2, 3e3], big: 123456789012345678901234567890}
  - - nested
    - {deeper: [x, {y: ''}]}
"""


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _with_marks(value: Any) -> Any:
    """``value`` with every container's marks spelled out, so equality compares them too."""
    if isinstance(value, MarkedDict):
        return ("d", value.mark, {k: (value.key_marks.get(k), _with_marks(v)) for k, v in value.items()})
    if isinstance(value, MarkedList):
        return ("l", value.mark, [(m, _with_marks(v)) for m, v in zip(value.item_marks, value, strict=True)])
    return (type(value).__name__, value)


def _no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("parsed again: the cache was not used")

    monkeypatch.setattr(yamlload, "loads", refuse)


@pytest.mark.parametrize("name", [*sorted(p.name for p in packaged_dir().glob("*.yaml")), "sample.yaml"])
def test_a_cached_document_is_what_the_loader_returns_marks_included(name: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = packaged_dir() / name if name != "sample.yaml" else tmp_path / name
    if name == "sample.yaml":
        path.write_text(DOC, encoding="utf-8")
    expected = _with_marks(yamlload.load_file(path))
    assert _with_marks(yamlcache.load_file(path)) == expected  # a miss: parsed and written
    assert yamlcache.entry_path(path).exists()
    _no_parser(monkeypatch)
    assert _with_marks(yamlcache.load_file(path)) == expected  # a hit: not parsed


def test_a_changed_document_is_parsed_again_even_at_the_same_size(tmp_path: Path) -> None:
    path = tmp_path / "pb.yaml"
    path.write_text("a: 1\n")
    assert yamlcache.load_file(path) == {"a": 1}
    path.write_text("a: 2\n")
    assert yamlcache.load_file(path) == {"a": 2}
    path.write_text("a: [2]\n")
    assert yamlcache.load_file(path) == {"a": [2]}


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("a: [1\n", "expected ',' or ']'"),
    ("a: !!python/object:os.system x\n", "unsupported YAML tag"),
])
def test_bad_input_gives_the_loaders_errors_every_time_and_is_never_cached(tmp_path: Path, text: str,
                                                                           message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as direct:
        yamlload.load_file(path)
    for _ in range(2):
        with pytest.raises(ValidationError) as cached:
            yamlcache.load_file(path)
        assert str(cached.value) == str(direct.value)
        assert message in str(cached.value)
    assert not yamlcache.entry_path(path).exists()


def test_unreadable_and_undecodable_files_are_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ValidationError, match=r"latin1.yaml:1:10: not valid UTF-8 \(byte 0xe9\)"):
        yamlcache.load_file(path)
    with pytest.raises(ValidationError, match="file not found"):
        yamlcache.load_file(tmp_path / "missing.yaml")


def test_values_json_cannot_keep_are_loaded_but_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text("when: 2026-12-07\nraw: !!binary aGk=\n")
    data = yamlcache.load_file(path)
    assert str(data["when"]) == "2026-12-07" and data["raw"] == b"hi"
    assert not yamlcache.entry_path(path).exists()


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "pb.yaml"
    path.write_text("a: {b: 1}\n")
    yamlcache.load_file(path)
    entry = yamlcache.entry_path(path)
    for junk in ("{not json", '{"key": 1}', entry.read_text().replace('"d"', '"x"')):
        entry.write_text(junk)
        assert yamlcache.load_file(path) == {"a": {"b": 1}}


def test_an_entry_is_readable_by_its_user_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("channels: {}\n")
    yamlcache.load_file(path)
    entry = yamlcache.entry_path(path)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert entry.parent.stat().st_mode & 0o777 == 0o700
