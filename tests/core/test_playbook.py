from __future__ import annotations

import textwrap

import pytest

from medic.core import playbook
from medic.kernel.errors import ValidationError


def load(registry, text: str):  # type: ignore[no-untyped-def]
    return playbook.loads(textwrap.dedent(text), registry, "pb.yaml")


def issues_of(registry, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        load(registry, text)
    return [str(i) for i in info.value.issues]


def test_valid_playbook_parses_with_inputs_and_nested_steps(registry) -> None:  # type: ignore[no-untyped-def]
    pb = load(registry, """
        name: demo
        inputs:
          host: {type: string, default: localhost}
          port: {type: int, required: true}
        steps:
          - id: g
            group: Phase one
            steps:
              - id: dns
                check: network.dns_resolve
                with: {host: "{{ inputs.host }}"}
                timeout: 5
                retries: 2
          - id: tcp
            check: network.tcp_connect
            when: steps.dns.status == 'pass'
            with: {host: "{{ inputs.host }}", port: "{{ inputs.port }}"}
    """)
    assert [s.id for s in pb.all_steps()] == ["g", "dns", "tcp"]
    dns = pb.all_steps()[1]
    assert (dns.timeout, dns.retries, dns.line) == (5.0, 2, 10)
    assert pb.bind_inputs({"port": "22"}) == {"host": "localhost", "port": 22}


def test_every_problem_is_reported_at_once_with_locations(registry) -> None:  # type: ignore[no-untyped-def]
    found = issues_of(registry, """
        name: broken
        colour: blue
        inputs:
          n: {type: integer}
        steps:
          - id: a
            check: no.such_check
          - id: b
            check: system.disk_space
            with: {warn_pct: lots, bogus: 1}
          - id: c
            check: system.memory
            timeout: -1
            when: steps.later.status == 'pass'
          - id: later
            check: system.memory
          - id: a
            check: system.memory
    """)
    text = "\n".join(found)
    assert "pb.yaml:3:1: at colour: unknown key 'colour'" in text
    assert "pb.yaml:5:7: at inputs.n.type: unknown type 'integer'" in text
    assert "unknown check 'no.such_check'" in text
    assert "warn_pct: got str 'lots', expected a number" in text
    assert "unknown parameter 'bogus'" in text
    assert "expected a positive number of seconds" in text
    assert "step 'later' cannot be used" in text and "it runs later" in text
    assert "duplicate step id 'a'" in text
    assert len(found) >= 7


def test_every_problem_has_line_and_column_points_at_its_step_and_comes_sorted(registry) -> None:  # type: ignore[no-untyped-def]
    found = issues_of(registry, """
        name: positions
        inputs:
          host: {type: string, default: example.org}
        steps:
          - id: early
            check: network.dns_resolve
            with: {host: "{{ steps.dns.outputs }}"}
            when: "inputs.nope == 1"
          - id: dns
            check: network.dns_resolve
            with: {hots: x}
          - id: bad
            check: no.such_check
          - id: g
            group: G
            steps:
              - id: inner
                check: network.dns_resolve
                with: {host: "{{ inputs. }}"}
    """)
    assert found == [
        "pb.yaml:8:12: at steps[0] (id 'early').with.host: step 'dns' cannot be used in 'steps.dns.outputs': "
        "it runs later",
        "pb.yaml:9:5: at steps[0] (id 'early').when: undefined input 'nope' in 'inputs.nope == 1'; "
        "declared inputs: host",
        "pb.yaml:12:5: at steps[1] (id 'dns').with: check network.dns_resolve: unknown parameter 'hots' "
        "(known: host, warn_ms, timeout_s)",
        "pb.yaml:14:5: at steps[2] (id 'bad').check: unknown check 'no.such_check'; `medic checks list` shows them",
        "pb.yaml:20:16: at steps[3] (id 'g').steps[0] (id 'inner').with.host: invalid expression 'inputs.': "
        "invalid syntax",
    ]


def test_validate_command_prints_the_located_sorted_problems(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nsteps:\n  - id: z\n    check: nope.x\n  - id: a\n    check: system.memory\n"
                   "    timeout: 0\n    when: inputs.x\n")
    out = subprocess.run([str(Path(sys.executable).with_name("medic")), "playbooks", "validate", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert [line.split(": at ")[0] for line in lines] == [f"{bad}:4:5", f"{bad}:7:5", f"{bad}:8:5"]


def test_a_later_step_named_by_subscript_is_refused_at_load(registry) -> None:  # type: ignore[no-untyped-def]
    found = issues_of(registry, """
        name: demo
        steps:
          - id: first
            check: system.memory
            when: "steps['later'].status == 'pass'"
          - id: later
            check: system.memory
            when: "steps['nosuch'].status == 'pass'"
    """)
    assert any("step 'later' cannot be used" in f and "it runs later" in f for f in found), found
    assert any("step 'nosuch' cannot be used" in f and "no step has that id" in f for f in found), found


@pytest.mark.parametrize(("snippet", "message"), [
    ("steps: []", "expected a non-empty list of steps"),
    ("steps:\n  - id: x\n    check: system.memory\n    group: g", "expected exactly one step kind key"),
    ("steps:\n  - id: 1bad\n    check: system.memory", "expected an id"),
    ("steps:\n  - id: x\n    check: network.tcp_connect", "missing required parameter 'host'"),
    ("steps:\n  - id: x\n    check: system.memory\n    when: __import__('os')", "invalid expression"),
    ("steps:\n  - id: x\n    check: system.memory\n    when: inputs.nope", "undefined input 'nope'"),
    ("steps:\n  - id: x\n    check: system.memory\n    retries: two", "expected a whole number"),
    ("steps:\n  - id: x\n    group: G", "expected a non-empty list of sub-steps"),
    ("version: 2\nsteps:\n  - id: x\n    check: system.memory", "unsupported format version 2"),
], ids=lambda v: "" if "\n" in v or "[" in v else v)  # ids without newlines or brackets: mutmut selects tests by id
def test_single_problems(registry, snippet: str, message: str) -> None:  # type: ignore[no-untyped-def]
    text = "name: p\n" + snippet + "\n"
    assert any(message in i for i in issues_of(registry, text)), issues_of(registry, text)


def test_inputs_are_validated_with_clear_messages(registry) -> None:  # type: ignore[no-untyped-def]
    pb = load(registry, """
        name: p
        inputs:
          port: {type: int, required: true}
          enabled: {type: bool, default: false}
        steps:
          - {id: m, check: system.memory}
    """)
    with pytest.raises(ValidationError) as info:
        pb.bind_inputs({"port": "eighty", "colour": "x"})
    text = str(info.value)
    assert "unknown input 'colour'" in text and "port: got str 'eighty', expected an integer" in text
    with pytest.raises(ValidationError, match="input 'port' is required"):
        pb.bind_inputs({})
    assert pb.bind_inputs({"port": 80, "enabled": "yes"}) == {"port": 80, "enabled": True}


def test_packaged_playbooks_are_valid(registry) -> None:  # type: ignore[no-untyped-def]
    from medic.core.catalog import all_playbooks

    refs = all_playbooks({})
    assert {"triage", "connection-issue", "function-abnormal", "slow-system"} <= {r.name for r in refs}
    for ref in refs:
        playbook.load(ref.path, registry)


def test_playbooks_validate_against_the_generated_json_schema(registry) -> None:  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    from medic.core.catalog import all_playbooks
    from medic.core.schema import playbook_schema
    from medic.kernel import yamlload

    validator = jsonschema.Draft202012Validator(playbook_schema(registry))
    for ref in all_playbooks({}):
        assert not list(validator.iter_errors(yamlload.load_file(ref.path))), ref.path
    bad = {"name": "x", "steps": [{"id": "a", "check": "system.memory", "with": {"nope": 1}}]}
    assert list(validator.iter_errors(bad))


def test_templates_inside_lists_and_mapping_inputs(registry) -> None:  # type: ignore[no-untyped-def]
    from medic.core.engine import Engine
    from medic.plugins.targets.local import LocalTarget

    pb = load(registry, """
        name: nested
        inputs:
          port: {type: int, default: 1}
          limits: {type: mapping, default: {warn: 50}}
        steps:
          - {id: ports, check: services.port_listening, with: {ports: ["{{ inputs.port }}"]}}
          - {id: mem, check: system.memory, with: {warn_pct: "{{ inputs.limits.warn }}"}}
    """)
    assert pb.bind_inputs({"limits": '{"warn": 5}'}) == {"port": 1, "limits": {"warn": 5}}
    run = Engine(registry).run(pb, [LocalTarget(registry.probes)], {"port": "22"})
    assert all(f.status.value in ("pass", "warn", "fail") for f in run.findings())
