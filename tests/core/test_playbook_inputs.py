"""`Playbook.bind_inputs` and `load`/`loads` in-process: the exact message for each refused input, what the
accepted inputs become, and where a loaded playbook says it came from (the CLI tests check the same through a
subprocess, which mutation testing does not reach)."""
# ruff: noqa: E501  (each expected message is quoted whole, as the user sees it)

from __future__ import annotations

from pathlib import Path

import pytest

from medic.core import playbook
from medic.kernel.errors import ValidationError

INPUTS = """\
name: inputs-demo
inputs:
  host: {type: string, default: example.org}
  count: {type: int, required: true}
  mode: {type: string, choices: [fast, slow], default: fast}
  ratio: {type: float, default: 1.5}
steps:
  - id: a
    check: system.memory
"""


@pytest.fixture
def pb(registry) -> playbook.Playbook:  # type: ignore[no-untyped-def]
    return playbook.loads(INPUTS, registry, "pb.yaml")


def refusal(pb: playbook.Playbook, given: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as info:
        pb.bind_inputs(given)
    return str(info.value)


def test_defaults_fill_what_is_not_given_and_given_values_are_coerced(pb: playbook.Playbook) -> None:
    assert pb.bind_inputs({"count": "3"}) == {"host": "example.org", "count": 3, "mode": "fast", "ratio": 1.5}
    assert pb.bind_inputs({"count": 4, "host": "h", "mode": "slow", "ratio": "0.5"}) == {
        "host": "h", "count": 4, "mode": "slow", "ratio": 0.5}


def test_unknown_input_names_the_inputs_the_playbook_takes(pb: playbook.Playbook) -> None:
    assert refusal(pb, {"count": 1, "hots": "x"}) == (
        "playbook inputs-demo: 1 problem(s)\n"
        "  pb.yaml: at inputs: unknown input 'hots'; this playbook takes: host, count, mode, ratio")


def test_unknown_input_to_a_playbook_without_inputs(registry) -> None:  # type: ignore[no-untyped-def]
    bare = playbook.loads("name: bare\nsteps:\n  - {id: a, check: system.memory}\n", registry, "bare.yaml")
    assert bare.bind_inputs({}) == {}
    with pytest.raises(ValidationError) as info:
        bare.bind_inputs({"x": 1})
    assert str(info.value) == (
        "playbook bare: 1 problem(s)\n"
        "  bare.yaml: at inputs: unknown input 'x'; this playbook takes: no inputs")


def test_missing_required_input_says_how_to_pass_it(pb: playbook.Playbook) -> None:
    assert refusal(pb, {}) == (
        "playbook inputs-demo: 1 problem(s)\n"
        "  pb.yaml: at inputs.count: input 'count' is required (an integer); pass --input count=...")


def test_wrong_type_names_the_input_and_what_was_expected(pb: playbook.Playbook) -> None:
    assert refusal(pb, {"count": "many"}) == (
        "playbook inputs-demo: 1 problem(s)\n"
        "  pb.yaml: at inputs.count: input count: got str 'many', expected an integer")


def test_a_value_outside_the_choices_is_refused(pb: playbook.Playbook) -> None:
    assert refusal(pb, {"count": 1, "mode": "medium"}) == (
        "playbook inputs-demo: 1 problem(s)\n"
        "  pb.yaml: at inputs.mode: input mode: got 'medium', expected a string (one of fast, slow)")


def test_every_problem_is_listed_unknown_first_then_in_input_order(pb: playbook.Playbook) -> None:
    assert refusal(pb, {"zz": 1, "mode": "medium", "ratio": "x", "aa": 2}) == (
        "playbook inputs-demo: 5 problem(s)\n"
        "  pb.yaml: at inputs: unknown input 'zz'; this playbook takes: host, count, mode, ratio\n"
        "  pb.yaml: at inputs: unknown input 'aa'; this playbook takes: host, count, mode, ratio\n"
        "  pb.yaml: at inputs.count: input 'count' is required (an integer); pass --input count=...\n"
        "  pb.yaml: at inputs.mode: input mode: got 'medium', expected a string (one of fast, slow)\n"
        "  pb.yaml: at inputs.ratio: input ratio: got str 'x', expected a number")


def test_loads_names_the_source_string_unless_told(registry) -> None:  # type: ignore[no-untyped-def]
    assert playbook.loads(INPUTS, registry).source == "<string>"
    with pytest.raises(ValidationError) as info:
        playbook.loads("name: p\nversion: 2\nsteps:\n  - {id: a, check: system.memory}\n", registry)
    assert str(info.value).splitlines()[1] == "  <string>:2:1: at version: unsupported format version 2; expected 1"


def test_load_reads_the_file_and_names_its_path(registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "demo.yaml"
    path.write_text(INPUTS)
    loaded = playbook.load(path, registry)
    assert (loaded.name, loaded.source, list(loaded.inputs)) == ("inputs-demo", str(path), ["host", "count", "mode", "ratio"])
    assert refusal(loaded, {"count": "x"}).splitlines()[1] == (
        f"  {path}: at inputs.count: input count: got str 'x', expected an integer")
    path.write_text("name: p\nversion: 2\nsteps:\n  - {id: a, check: system.memory}\n")
    with pytest.raises(ValidationError) as info:
        playbook.load(str(path), registry)
    assert str(info.value).splitlines()[1] == f"  {path}:2:1: at version: unsupported format version 2; expected 1"


def test_parse_names_the_source_string_unless_told(registry) -> None:  # type: ignore[no-untyped-def]
    data = {"name": "p", "steps": [{"id": "a", "check": "system.memory"}]}
    assert playbook.parse(data, registry).source == "<string>"
    with pytest.raises(ValidationError) as info:
        playbook.parse({"name": "p", "version": 2, "steps": data["steps"]}, registry)
    assert str(info.value).splitlines() == ["<string>: 1 problem(s)", "  <string>: at version: unsupported format version 2; expected 1"]


@pytest.mark.parametrize(("text", "message"), [
    pytest.param('description: d\nname: 5\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at name: expected a non-empty string (the name)', id='name_second_line'),
    pytest.param('name: p\nsteps:\n  - check: system.memory\n    id: 5\n',
                 "pb.yaml:4:5: at steps[0].id: expected an id: letters, digits, '_' or '-', starting with a letter", id='id_second_line'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n  - check: system.memory\n    id: a\n',
                 "pb.yaml:6:5: at steps[1].id: duplicate step id 'a' (first used at line 3)", id='duplicate_id_second_line'),
])
def test_a_refused_key_below_its_mappings_first_line_is_pointed_at(registry, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        playbook.loads(text, registry, "pb.yaml")
    assert str(info.value).splitlines()[1:] == [f"  {message}"]


def test_an_optional_input_without_default_and_the_raw_document(registry) -> None:  # type: ignore[no-untyped-def]
    text = "name: p\ninputs:\n  tag: {type: string, required: false, choices: [a, b]}\n  n: {type: int, default: 1}\nsteps:\n  - {id: a, check: system.memory, retries: 0}\n"
    pb = playbook.loads(text, registry, "pb.yaml")
    assert [p.to_dict() for p in pb.inputs.values()] == [
        {"name": "tag", "type": "string", "description": "", "required": False, "default": None, "choices": ["a", "b"]},
        {"name": "n", "type": "int", "description": "", "required": False, "default": 1}]
    assert pb.raw == {"name": "p", "inputs": {"tag": {"type": "string", "required": False, "choices": ["a", "b"]}, "n": {"type": "int", "default": 1}},
                      "steps": [{"id": "a", "check": "system.memory", "retries": 0}]}
    assert pb.steps[0].retries == 0


def test_every_bad_input_declaration_is_reported(registry) -> None:  # type: ignore[no-untyped-def]
    text = "name: p\ninputs:\n  a: {type: int}\n  b: 5\n  c: {type: colour}\n  d: {type: int, default: x}\n  e: 6\nsteps:\n  - {id: s, check: system.memory}\n"
    with pytest.raises(ValidationError) as info:
        playbook.loads(text, registry, "pb.yaml")
    assert str(info.value).splitlines()[1:] == [
        "  pb.yaml:4:3: at inputs.b: expected a mapping with type, default, description, required",
        "  pb.yaml:5:7: at inputs.c.type: unknown type 'colour'; expected one of string, int, float, bool, list, mapping, version",
        "  pb.yaml:6:18: at inputs.d.default: default d: got str 'x', expected an integer",
        "  pb.yaml:7:3: at inputs.e: expected a mapping with type, default, description, required"]


def test_a_yaml_error_through_loads_names_the_file(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        playbook.loads("name: [\n", registry, "pb.yaml")
    assert str(info.value) == "pb.yaml: 1 problem(s)\n  pb.yaml:2:1: did not find expected node content (while parsing a flow node)"


def test_bare_step_references_and_the_declared_inputs_listed(registry) -> None:  # type: ignore[no-untyped-def]
    text = 'name: p\ninputs:\n  a: {type: int, default: 1}\n  b: {type: int, default: 2}\nsteps:\n  - {id: s, check: system.memory}\n  - {id: t, check: system.memory, when: "steps.s and steps.u and inputs.c"}\n  - {id: u, check: system.memory}\n'
    with pytest.raises(ValidationError) as info:
        playbook.loads(text, registry, "pb.yaml")
    assert str(info.value).splitlines()[1:] == [
        "  pb.yaml:7:35: at steps[1] (id 't').when: step 'u' cannot be used in 'steps.s and steps.u and inputs.c': it runs later",
        "  pb.yaml:7:35: at steps[1] (id 't').when: undefined input 'c' in 'steps.s and steps.u and inputs.c'; declared inputs: a, b"]
