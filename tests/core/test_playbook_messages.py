"""The playbook parser's every refusal, exactly: the file, line and column, the key path and the message a
playbook author reads (tests/core/test_playbook.py covers the shapes; this names each message)."""
# ruff: noqa: E501  (each expected message is quoted whole, as the author sees it)

from __future__ import annotations

import textwrap

import pytest

from medic.core import playbook
from medic.kernel.errors import ValidationError

CASES = [
    pytest.param('- a\n- b\n',
                 'pb.yaml:1:1: expected a mapping with keys name, description, version, inputs, targets, steps, triggers, notify, got a list',
                 id='top_list'),
    pytest.param('hello\n',
                 'pb.yaml: expected a mapping with keys name, description, version, inputs, targets, steps, triggers, notify, got str',
                 id='top_scalar'),
    pytest.param('name: p\nnmae: x\nsteps:\n  - id: a\n    check: system.memory\n',
                 "pb.yaml:2:1: at nmae: unknown key 'nmae'; expected one of name, description, version, inputs, targets, steps, triggers, notify",
                 id='unknown_top'),
    pytest.param('steps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:1:1: at name: expected a non-empty string (the name)',
                 id='no_name'),
    pytest.param("name: '  '\nsteps:\n  - id: a\n    check: system.memory\n",
                 'pb.yaml:1:1: at name: expected a non-empty string (the name)',
                 id='blank_name'),
    pytest.param('name: 5\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:1:1: at name: expected a non-empty string (the name)',
                 id='number_name'),
    pytest.param('name: p\ndescription: [1]\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at description: expected a string',
                 id='description'),
    pytest.param('name: p\nversion: 2\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at version: unsupported format version 2; expected 1',
                 id='version'),
    pytest.param('name: p\ninputs: [a]\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at inputs: expected a mapping of input name to {type, default, ...}',
                 id='inputs_list'),
    pytest.param('name: p\ninputs:\n  x: 5\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:3:3: at inputs.x: expected a mapping with type, default, description, required',
                 id='input_scalar'),
    pytest.param('name: p\ninputs:\n  x: {type: string, colour: red, default: a}\nsteps:\n  - id: a\n    check: system.memory\n',
                 "pb.yaml:3:21: at inputs.x.colour: unknown key 'colour'; expected one of type, default, description, required, choices",
                 id='input_key'),
    pytest.param('name: p\ninputs:\n  x: {type: colour}\nsteps:\n  - id: a\n    check: system.memory\n',
                 "pb.yaml:3:7: at inputs.x.type: unknown type 'colour'; expected one of string, int, float, bool, list, mapping, version",
                 id='input_type'),
    pytest.param('name: p\ninputs:\n  x: {type: int, required: maybe}\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:3:18: at inputs.x.required: expected true or false',
                 id='input_required'),
    pytest.param('name: p\ninputs:\n  x: {type: int, default: abc}\nsteps:\n  - id: a\n    check: system.memory\n',
                 "pb.yaml:3:18: at inputs.x.default: default x: got str 'abc', expected an integer",
                 id='input_default'),
    pytest.param('name: p\ntargets: 5\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at targets: expected a list of target names, e.g. [local]',
                 id='targets_number'),
    pytest.param('name: p\ntargets: [local, 1]\nsteps:\n  - id: a\n    check: system.memory\n',
                 'pb.yaml:2:1: at targets: expected a list of target names, e.g. [local]',
                 id='targets_items'),
    pytest.param('name: p\n',
                 'pb.yaml:1:1: at steps: expected a non-empty list of steps',
                 id='no_steps'),
    pytest.param('name: p\nsteps: {a: 1}\n',
                 'pb.yaml:2:1: at steps: expected a non-empty list of steps',
                 id='steps_mapping'),
    pytest.param('name: p\nsteps:\n  - 5\n',
                 'pb.yaml:3:5: at steps[0]: expected a step mapping with an id and one of: action, approve, backup, check, group, rollback, verify',
                 id='step_scalar'),
    pytest.param('name: p\nsteps:\n  - id: a\n    title: t\n',
                 "pb.yaml:3:5: at steps[0] (id 'a'): expected exactly one step kind key (action, approve, backup, check, group, rollback, verify); found none",
                 id='step_no_kind'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    group: g\n',
                 "pb.yaml:3:5: at steps[0] (id 'a'): expected exactly one step kind key (action, approve, backup, check, group, rollback, verify); found check, group",
                 id='step_two_kinds'),
    pytest.param('name: p\nsteps:\n  - id: 1a\n    check: system.memory\n',
                 "pb.yaml:3:5: at steps[0].id: expected an id: letters, digits, '_' or '-', starting with a letter",
                 id='step_bad_id'),
    pytest.param('name: p\nsteps:\n  - check: system.memory\n',
                 "pb.yaml:3:5: at steps[0].id: expected an id: letters, digits, '_' or '-', starting with a letter",
                 id='step_no_id'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n  - id: a\n    check: system.memory\n',
                 "pb.yaml:5:5: at steps[1].id: duplicate step id 'a' (first used at line 3)",
                 id='step_dup_id'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    colour: red\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').colour: unknown key 'colour' for a check step; expected one of become, check, continue_on_error, id, retries, timeout, title, when, with",
                 id='step_unknown_key'),
    pytest.param('name: p\nsteps:\n  - id: g\n    group: G\n    steps: []\n',
                 "pb.yaml:5:5: at steps[0] (id 'g').steps: expected a non-empty list of sub-steps",
                 id='group_no_steps'),
    pytest.param('name: p\nsteps:\n  - id: g\n    group: G\n',
                 "pb.yaml:3:5: at steps[0] (id 'g').steps: expected a non-empty list of sub-steps",
                 id='group_steps_missing'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    title: 5\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').title: expected a string, got 5",
                 id='title'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    with: [1]\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').with: expected a mapping of parameter names to values",
                 id='with'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: 5\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').when: expected an expression string, got 5",
                 id='when_number'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    timeout: -1\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').timeout: expected a positive number of seconds, got -1",
                 id='timeout_negative'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    timeout: 0\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').timeout: expected a positive number of seconds, got 0",
                 id='timeout_zero'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    timeout: soon\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').timeout: expected a number of seconds, got 'soon'",
                 id='timeout_text'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    timeout: true\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').timeout: expected a number of seconds, got True",
                 id='timeout_bool'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    retries: -1\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').retries: expected 0 or more retries",
                 id='retries_negative'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    retries: 1.5\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').retries: expected a whole number of retries, got 1.5",
                 id='retries_float'),
    pytest.param("name: p\nsteps:\n  - id: a\n    check: system.memory\n    continue_on_error: 'yes'\n",
                 "pb.yaml:5:5: at steps[0] (id 'a').continue_on_error: expected true or false, got 'yes'",
                 id='continue'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    become: root\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').become: expected sudo (privilege escalation) or false (none, even if the host has become: sudo), got 'root'",
                 id='become_root'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    become: true\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').become: expected sudo (privilege escalation) or false (none, even if the host has become: sudo), got True",
                 id='become_true'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: os.system == 1\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').when: undefined name 'os' in 'os.system == 1'; expected one of inputs, steps, target",
                 id='expr_name'),
    pytest.param('name: p\ninputs:\n  x: {default: 1}\nsteps:\n  - id: a\n    check: system.memory\n    when: inputs.y == 1\n',
                 "pb.yaml:7:5: at steps[0] (id 'a').when: undefined input 'y' in 'inputs.y == 1'; declared inputs: x",
                 id='expr_input'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: inputs.y == 1\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').when: undefined input 'y' in 'inputs.y == 1'; declared inputs: none",
                 id='expr_no_inputs'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: len(inputs) > 0\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').when: undefined input '' in 'len(inputs) > 0'; declared inputs: none",
                 id='expr_inputs_bare'),
    pytest.param('name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: len(steps) > 0\n',
                 "pb.yaml:5:5: at steps[0] (id 'a').when: step '' cannot be used in 'len(steps) > 0': no step has that id",
                 id='expr_steps_bare'),
    pytest.param("name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: steps.b.status == 'pass'\n  - id: b\n    check: system.memory\n",
                 'pb.yaml:5:5: at steps[0] (id \'a\').when: step \'b\' cannot be used in "steps.b.status == \'pass\'": it runs later',
                 id='expr_later'),
    pytest.param("name: p\nsteps:\n  - id: a\n    check: system.memory\n    when: steps.a.status == 'pass'\n",
                 'pb.yaml:5:5: at steps[0] (id \'a\').when: step \'a\' cannot be used in "steps.a.status == \'pass\'": it runs later',
                 id='expr_self'),
    pytest.param("name: p\nsteps:\n  - id: a\n    check: network.dns_resolve\n    with: {host: '{{ 1 + }}'}\n",
                 "pb.yaml:5:12: at steps[0] (id 'a').with.host: invalid expression '1 +': invalid syntax",
                 id='expr_syntax_with'),
    pytest.param('name: p\nsteps:\n  - id: g\n    group: G\n    steps:\n      - id: a\n        check: system.memory\n        when: inputs.q\n',
                 "pb.yaml:8:9: at steps[0] (id 'g').steps[0] (id 'a').when: undefined input 'q' in 'inputs.q'; declared inputs: none",
                 id='expr_in_group'),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_each_refusal_names_its_place_and_what_was_expected(registry, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        playbook.loads(text, registry, "pb.yaml")
    assert [str(i) for i in err.value.issues] == [message]
    assert err.value.exit_code == 2


def load(registry, text: str) -> playbook.Playbook:  # type: ignore[no-untyped-def]
    return playbook.loads(textwrap.dedent(text), registry, "pb.yaml")


def step(pb: playbook.Playbook, sid: str):  # type: ignore[no-untyped-def]
    return {s.id: s for s in pb.all_steps()}[sid]


def test_what_a_valid_playbook_becomes(registry) -> None:  # type: ignore[no-untyped-def]
    pb = load(registry, """
        name: '  demo  '
        description: the description
        targets: web1
        inputs:
          host: {description: a name, default: localhost}
          port: {type: int, required: true}
          opt: {type: int, required: false}
          level: {type: string, default: a, choices: [a, b]}
          maybe: {type: bool}
        steps:
          - id: g
            group: G
            become: sudo
            steps:
              - id: a
                check: system.memory
                title: Memory
                when: true
                timeout: 5
                retries: 2
                continue_on_error: true
              - id: b
                check: system.memory
                become: false
                when: false
          - id: c
            check: system.memory
            with: {warn_pct: 50}
    """)
    assert (pb.name, pb.description, pb.targets, pb.source) == ("demo", "the description", ["web1"], "pb.yaml")
    host, port, opt, level, maybe = (pb.inputs[n] for n in ("host", "port", "opt", "level", "maybe"))
    assert (host.type, host.default, host.description, host.required) == ("string", "localhost", "a name", False)
    assert (port.type, port.required) == ("int", True)
    assert (opt.required, opt.default) == (False, None)
    assert (level.default, level.choices) == ("a", ("a", "b"))
    assert maybe.required is True  # no default and no `required:` means required
    g, a, b, c = (step(pb, s) for s in ("g", "a", "b", "c"))
    assert [s.id for s in pb.steps] == ["g", "c"] and [s.id for s in g.children] == ["a", "b"]
    assert (a.title, a.when, a.timeout, a.retries, a.continue_on_error, a.become) == (
        "Memory", "true", 5.0, 2, True, True)
    assert isinstance(a.timeout, float)
    assert (b.when, b.become, b.retries, b.timeout, b.title) == ("false", False, 0, None, "")
    assert (c.params, c.become, c.when, c.continue_on_error) == ({"warn_pct": 50}, None, None, None)
    assert (g.become, g.kind, a.kind, a.arg) == (True, "group", "check", "system.memory")
    assert (a.file, a.line) == ("pb.yaml", 16)  # the text starts with an empty line


def test_defaults_of_a_minimal_playbook(registry) -> None:  # type: ignore[no-untyped-def]
    pb = load(registry, """
        name: p
        steps:
          - id: a
            check: system.memory
    """)
    assert (pb.description, pb.targets, pb.inputs, pb.version) == ("", ["local"], {}, 1)
    assert step(pb, "a").params == {}


def test_every_problem_of_one_playbook_at_once_sorted_by_place(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        load(registry, """
            name: p
            version: 3
            steps:
              - id: a
                check: system.memory
                timeout: -2
              - id: a
                check: system.memory
                when: inputs.nope
        """)
    assert [str(i) for i in err.value.issues] == [
        "pb.yaml:3:1: at version: unsupported format version 3; expected 1",
        "pb.yaml:7:5: at steps[0] (id 'a').timeout: expected a positive number of seconds, got -2",
        "pb.yaml:8:5: at steps[1].id: duplicate step id 'a' (first used at line 5)",
        "pb.yaml:10:5: at steps[1] (id 'a').when: undefined input 'nope' in 'inputs.nope'; declared inputs: none",
    ]
    assert err.value.subject == "pb.yaml"


def test_an_expression_after_a_group_may_name_the_group_and_its_children(registry) -> None:  # type: ignore[no-untyped-def]
    pb = load(registry, """
        name: p
        steps:
          - id: g
            group: G
            steps:
              - id: a
                check: system.memory
          - id: b
            check: system.memory
            when: steps.g.status == 'pass' and steps.a.status == 'pass'
    """)
    assert step(pb, "b").when == "steps.g.status == 'pass' and steps.a.status == 'pass'"


def test_templates_in_a_step_kind_extra_key_are_checked(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        load(registry, """
            name: p
            steps:
              - id: a
                action: command
                with: {argv: [/bin/true]}
                backup: none
                reason: "{{ inputs.who }}"
        """)
    assert any("undefined input 'who'" in str(i) for i in err.value.issues), err.value.issues
