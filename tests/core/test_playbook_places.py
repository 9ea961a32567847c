"""Where the playbook parser puts each problem: the order of issues that share a line or have none, the label of
a step whose id is not usable, and how an issue a step kind or the expression check reports against
``step 'ID'.key`` is moved to that key's line and column (or left where it is when it cannot be)."""
# ruff: noqa: E501  (each expected message is quoted whole, as the author sees it)

from __future__ import annotations

import pytest

from medic.core import playbook
from medic.core.steps import Step, StepContext, StepKind, StepResult, ValidationContext
from medic.kernel import yamlload
from medic.kernel.errors import ValidationError
from medic.kernel.models import Status
from medic.kernel.registry import Origin, Registry

CHECK_KEYS = "become, check, continue_on_error, id, retries, timeout, title, when, with"


class Remark(StepKind):
    """Reports one problem at the path its argument names ('' for the step itself): a third-party kind may
    report against any path, one the parser can place or not."""

    name = "remark"
    description = "reports a problem at the path it is given"

    def validate(self, step: Step, vc: ValidationContext) -> None:
        vc.error(step, "remarked", str(step.arg))

    def run(self, step: Step, ctx: StepContext) -> StepResult:
        return StepResult(step.id, step.kind, ctx.target.name, Status.PASS, step.label)


@pytest.fixture
def reg(registry) -> Registry:  # type: ignore[no-untyped-def]
    """The built-in registry plus the remark kind (a copy: the session's registry stays as it is)."""
    out = Registry()
    for kind, table in registry.tables.items():
        out.tables[kind].entries = dict(table.entries)
    out.register("step_kinds", Remark(), Origin("tests"))
    return out


def refusal(registry: Registry, text: str) -> list[str]:
    with pytest.raises(ValidationError) as err:
        playbook.loads(text, registry, "pb.yaml")
    return [str(i) for i in err.value.issues]


def refusal_of_data(registry: Registry, data: object) -> list[str]:
    with pytest.raises(ValidationError) as err:
        playbook.parse(data, registry, "pb.yaml")
    return [str(i) for i in err.value.issues]


def test_issues_on_one_line_are_in_column_order(registry) -> None:  # type: ignore[no-untyped-def]
    # the unknown key is found before the bad timeout, yet stands to its right
    assert refusal(registry, "name: p\nsteps:\n  - {id: a, timeout: -1, check: system.memory, colour: red}\n") == [
        "pb.yaml:3:13: at steps[0] (id 'a').timeout: expected a positive number of seconds, got -1",
        f"pb.yaml:3:48: at steps[0] (id 'a').colour: unknown key 'colour' for a check step; expected one of {CHECK_KEYS}",
    ]


def test_an_issue_without_a_column_comes_first_on_its_line(reg: Registry) -> None:
    # the missing name is reported at the mapping (1:1) before the step kind reports its column-less problem
    assert refusal(reg, "{steps: [{id: a, remark: elsewhere}]}\n") == [
        "pb.yaml:1: at elsewhere: remarked",
        "pb.yaml:1:1: at name: expected a non-empty string (the name)",
    ]


def test_issues_without_a_line_come_after_the_located_ones(registry) -> None:  # type: ignore[no-untyped-def]
    # a playbook put together in code: its top mapping is plain data, its steps were loaded from YAML text
    steps = yamlload.loads("- id: a\n  check: system.memory\n  colour: red\n", "pb.yaml")
    assert refusal_of_data(registry, {"name": "p", "version": 2, "steps": steps}) == [
        f"pb.yaml:3:3: at steps[0] (id 'a').colour: unknown key 'colour' for a check step; expected one of {CHECK_KEYS}",
        "pb.yaml: at version: unsupported format version 2; expected 1",
    ]


def test_a_step_with_a_number_for_id_is_labelled_by_its_place_alone(registry) -> None:  # type: ignore[no-untyped-def]
    assert refusal(registry, "name: p\nsteps:\n  - id: 5\n    check: system.memory\n    colour: red\n") == [
        "pb.yaml:3:5: at steps[0].id: expected an id: letters, digits, '_' or '-', starting with a letter",
        f"pb.yaml:5:5: at steps[0].colour: unknown key 'colour' for a check step; expected one of {CHECK_KEYS}",
    ]


def test_an_expression_error_of_a_step_without_id_is_placed_at_its_key(registry) -> None:  # type: ignore[no-untyped-def]
    assert refusal(registry, "name: p\nsteps:\n  - check: system.memory\n    when: inputs.nope\n") == [
        "pb.yaml:3:5: at steps[0].id: expected an id: letters, digits, '_' or '-', starting with a letter",
        "pb.yaml:4:5: at steps[0] (id 'step0').when: undefined input 'nope' in 'inputs.nope'; declared inputs: none",
    ]


def test_an_expression_error_in_a_step_kind_extra_key_names_that_key(registry) -> None:  # type: ignore[no-untyped-def]
    text = ("name: p\nsteps:\n  - id: a\n    action: command\n    with: {argv: [/bin/true]}\n    resources: []\n"
            "    backup: none\n    reason: \"{{ inputs.who }}\"\n")
    assert refusal(registry, text) == [
        "pb.yaml:8:5: at steps[0] (id 'a').reason: undefined input 'who' in 'inputs.who'; declared inputs: none"]


def test_a_problem_with_a_key_the_step_lacks_is_placed_at_the_step(registry) -> None:  # type: ignore[no-untyped-def]
    text = "name: p\nsteps:\n  - id: a\n    action: command\n    with: {argv: [/bin/true]}\n"
    assert refusal(registry, text) == [
        "pb.yaml:3:5: at steps[0] (id 'a').resources: a command action must declare the `resources:` it changes ([] if none)"]


def test_a_problem_with_the_step_itself_is_placed_at_the_step(reg: Registry) -> None:
    assert refusal(reg, "name: p\nsteps:\n  - id: a\n    remark: ''\n") == ["pb.yaml:3:5: at steps[0] (id 'a'): remarked"]


def test_a_problem_naming_a_step_that_is_not_there_is_left_where_it_was_reported(reg: Registry) -> None:
    assert refusal(reg, "name: p\nsteps:\n  - id: a\n    remark: step 'ghost'.with\n") == [
        "pb.yaml:3: at step 'ghost'.with: remarked"]


def test_a_step_kind_problem_in_plain_data_keeps_its_path_without_a_line(registry) -> None:  # type: ignore[no-untyped-def]
    assert refusal_of_data(registry, {"name": "p", "steps": [{"id": "a", "check": "no.such"}]}) == [
        "pb.yaml: at steps[0] (id 'a').check: unknown check 'no.such'; `medic checks list` shows them"]
