from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from medic.kernel import yamlload
from medic.kernel.errors import Issue, ValidationError

DEFAULT_LOADER = yamlload.LOADER  # before the fixture below swaps it


@pytest.fixture(autouse=True, params=sorted(yamlload.LOADERS))
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with each parser installed: libyaml's (the default where present) and the pure-Python one."""
    monkeypatch.setattr(yamlload, "LOADER", yamlload.LOADERS[request.param])
    return str(request.param)


def test_libyaml_is_the_default_where_pyyaml_was_built_with_it() -> None:
    assert ("libyaml" in yamlload.LOADERS) == yaml.__with_libyaml__
    assert DEFAULT_LOADER is yamlload.LOADERS["libyaml" if yaml.__with_libyaml__ else "python"]
    assert yaml.__with_libyaml__, "this machine's PyYAML has libyaml; the libyaml loader must be tested here"


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


# --- hostile and broken input (issue 16): refused while loading, located, never an internal error -------------

def laughs(indent: str, levels: int = 10) -> str:
    """List items that expand to 10**levels strings: "billion laughs" in a few hundred bytes."""
    anchors = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    anchors += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "".join(f"{indent}- {a}\n" for a in anchors)


def alias_bomb() -> str:
    """A playbook whose input default is an alias bomb (issue 16: it passed validation, then ate 2.9 GB)."""
    return ("name: bomb\ninputs:\n  x:\n    type: list\n    default:\n" + laughs("      ")
            + "steps:\n  - id: dns\n    check: network.dns_resolve\n    with: {host: localhost}\n")


def issue_of(text: str) -> Issue:
    with pytest.raises(ValidationError) as info:
        yamlload.loads(text, "f.yaml")
    (issue,) = info.value.issues
    assert issue.file == "f.yaml"
    return issue


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_node_limit() -> None:
    issue = issue_of(alias_bomb())
    assert "more than 100000 nodes after alias expansion" in issue.message and "alias *a" in issue.message
    text = alias_bomb().splitlines()
    assert "*a" in text[issue.line - 1][issue.column - 1:issue.column + 2]  # type: ignore[operator]


def test_aliases_and_merge_keys_below_the_limit_still_load() -> None:
    data = yamlload.loads("base: &b {port: 22, tags: [a, b]}\nweb: *b\ndb: {<<: *b, port: 5432}\n", "f.yaml")
    assert data["web"] == {"port": 22, "tags": ["a", "b"]}
    assert data["db"] == {"port": 5432, "tags": ["a", "b"]}  # a mapping's own keys override merged ones
    assert yamlload.mark_of(data["db"], "port") == (3, 14)
    issue = issue_of("a: {<<: {x: 1}, y: 1, y: 2}\n")
    assert "duplicate key 'y'" in issue.message


def test_the_node_limit_counts_plain_nodes_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_NODES", 1000)  # the real limit takes PyYAML ~10 s to reach
    assert len(yamlload.loads("[" + ", ".join(["1"] * 999) + "]", "f.yaml")) == 999
    issue = issue_of("[" + ", ".join(["1"] * 1000) + "]")
    assert "document too large: more than 1000 nodes" in issue.message and issue.line == 1


def test_one_long_string_repeated_by_many_aliases_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_TEXT", 10_000)
    repeated = "s: &s " + "x" * 1000 + "\nall: [" + ", ".join(["*s"] * 8) + "]\n"
    assert len(yamlload.loads(repeated, "f.yaml")["all"]) == 8
    issue = issue_of(repeated.replace("[*s,", "[*s, *s, *s,"))
    assert "more than 10,000 characters after alias expansion (alias *s repeats 1 node(s) and 1000 characters)" \
        in issue.message
    assert issue.line == 2


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x {b: {c: *x}}\n"])
def test_a_recursive_alias_is_refused(text: str) -> None:
    issue = issue_of(text)
    assert "alias *x refers to a node that contains it" in issue.message and issue.line == 1


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_nesting_deeper_than_the_limit_is_refused_before_python_recursion_runs_out(opener: str, closer: str) -> None:
    depth = yamlload.MAX_DEPTH - 1
    assert yamlload.loads(opener * depth + "x" + closer * depth, "f.yaml") is not None
    issue = issue_of(opener * 100_000 + "x")
    assert f"nested more than {yamlload.MAX_DEPTH} levels deep" in issue.message
    assert issue.line == 1 and issue.column is not None


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("name: a\nb: c\x00\n", 2, 5, "character #x0000 is not allowed"),
    ("a: 1\n\x07", 2, 1, "character #x0007 is not allowed"),
    ("a: *nope\n", 1, 4, "found undefined alias 'nope'"),
    ("a: &x 1\nb: &x 2\n", 2, 4, "found duplicate anchor 'x'"),
    ("a: 2024-13-45\n", 1, 4, "cannot read this timestamp value"),
    ("a: " + "9" * 5000 + "\n", 1, 4, "cannot read this int value"),
    ("a: !!bool maybe\n", 1, 4, "cannot read this value as bool"),
    ("a:\n  - !!set 0\n", 2, 5, "cannot read this value as set"),
])
def test_every_yaml_error_is_a_located_validation_error(text: str, line: int, column: int, message: str) -> None:
    issue = issue_of(text)
    assert message in issue.message and (issue.line, issue.column) == (line, column)


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: ok\ndescription: caf\xe9\n")
    with pytest.raises(ValidationError) as info:
        yamlload.load_file(path)
    assert str(info.value.issues[0]) == f"{path}:2:17: not valid UTF-8 (byte 0xe9); save the file as UTF-8"


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * yamlload.MAX_BYTES + "\n")
    with pytest.raises(ValidationError, match="too large: more than 2 MiB"):
        yamlload.load_file(path)
    with pytest.raises(ValidationError, match="too large"):
        yamlload.loads(path.read_text(), "big.yaml")


# --- the same through the real command line, memory capped so a regression fails fast -----------------------

BAD_FILES = {
    "bomb.yaml": (alias_bomb().encode(), 10, "nodes after alias expansion"),
    "nul.yaml": (b"name: nul\nsteps: []\x00\n", 2, "character #x0000 is not allowed"),
    "latin1.yaml": (b"name: caf\xe9\n", 1, "not valid UTF-8"),
    "alias.yaml": (b"name: *nope\n", 1, "found undefined alias"),
    "deep.yaml": (b"name: " + b"[" * 100_000 + b"\n", 1, "levels deep"),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def medic_capped(*args: str, env: dict[str, str] | None = None, loader: str = "libyaml",
                 cli: str = "medic.cli") -> subprocess.CompletedProcess[str]:
    """The real command line (``medic``, or ``medic-agent`` with cli="medic.agent.cli"), with the YAML loader the
    test runs with."""
    module = "medic.cli.main" if cli == "medic.cli" else cli
    code = (f"import sys; from medic.kernel import yamlload; from {module} import main; "
            f"yamlload.LOADER = yamlload.LOADERS[{loader!r}]; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, "MEDIC_ENGINE": "inline", **(env or {})}, timeout=120,
                          preexec_fn=_limit_memory)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_refuses_hostile_playbooks_with_exit_2_and_one_located_line(
        tmp_path: Path, name: str, command: str, loader: str) -> None:
    content, line, message = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    argv = ["playbooks", "validate", str(path)] if command == "validate" else ["run", str(path), "--engine", "inline"]
    out = medic_capped(*argv, loader=loader)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    located = [row for row in out.stderr.splitlines() if row.strip().startswith(f"{path}:{line}:")]
    assert len(located) == 1 and message in located[0], out.stderr


def test_cli_refuses_an_alias_bomb_in_configuration_inventory_and_agent_profile(tmp_path: Path, loader: str) -> None:
    config, inventory, profile = tmp_path / "config.yaml", tmp_path / "inventory.yaml", tmp_path / "profile.yaml"
    config.write_text("notify:\n" + laughs("  "))
    inventory.write_text("hosts:\n" + laughs("  "))
    profile.write_text("name: bomb\nfiles:\n" + laughs("  "))
    runs = {
        config: medic_capped("playbooks", "list", env={"MEDIC_CONFIG": str(config)}, loader=loader),
        inventory: medic_capped("run", "triage", "--inventory", str(inventory), loader=loader),
        profile: medic_capped("collect", "--profile", str(profile), "--output", str(tmp_path), loader=loader,
                              cli="medic.agent.cli"),
    }
    for path, out in runs.items():
        assert out.returncode == 2, out.stderr[-2000:]
        assert f"{path}:" in out.stderr and "nodes after alias expansion" in out.stderr
        assert "Traceback" not in out.stderr
