from __future__ import annotations

import pytest

from medic.kernel import yamlload
from medic.kernel.errors import ValidationError


def test_keeps_line_and_column_of_keys_and_items() -> None:
    data = yamlload.loads("a: 1\nlist:\n  - x\n  - {b: 2}\n", "f.yaml")
    assert yamlload.mark_of(data, "list") == (2, 1)
    assert yamlload.mark_of(data["list"], 1) == (4, 5)
    assert yamlload.mark_of(data["list"][1], "b") == (4, 6)


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    with pytest.raises(ValidationError) as info:
        yamlload.loads("name: a\nsteps: []\nname: b\n", "dup.yaml")
    (issue,) = info.value.issues
    assert (issue.file, issue.line) == ("dup.yaml", 3)
    assert "duplicate key 'name'" in issue.message and "line 1" in issue.message


@pytest.mark.parametrize("text", [
    "!!python/object/apply:os.system ['touch /tmp/pwned']",
    "a: !!python/name:os.system\n",
    "a: !custom 1\n",
])
def test_unsafe_or_unknown_tags_are_rejected(text: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        yamlload.loads(text, "evil.yaml")
    assert "unsupported YAML tag" in str(info.value)
    assert info.value.issues[0].line == 1


def test_malformed_yaml_names_file_line_column() -> None:
    with pytest.raises(ValidationError) as info:
        yamlload.loads("a: [1, 2\nb: 3\n", "bad.yaml")
    issue = info.value.issues[0]
    assert issue.file == "bad.yaml" and issue.line is not None and issue.column is not None
    assert str(issue).startswith("bad.yaml:")


def test_missing_file_is_a_validation_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="file not found"):
        yamlload.load_file(tmp_path / "nope.yaml")
