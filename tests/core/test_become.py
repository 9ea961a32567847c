"""``become:`` on steps: load-time validation, inheritance, cache separation by privileges, the local target."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from medic.core import playbook
from medic.core.engine import Engine
from medic.core.schema import playbook_schema
from medic.core.target import Target
from medic.kernel.errors import ValidationError
from medic.kernel.models import ProbeCall, ProbeResult, Status
from medic.plugins.change.safety import hosts
from medic.plugins.targets.local import LocalTarget

MEM = {"total_bytes": 8 * 1024**3, "available_bytes": 4 * 1024**3, "available_pct": 50.0,
       "swap_total_bytes": 0, "swap_used_bytes": 0, "swap_used_pct": 0.0}
ROOT_MEM = {**MEM, "available_pct": 2.0}  # what only a privileged collection sees (a fail)


class Escalating(Target):
    """Like an SSH host without host-level become: calls resolve to become True/False; the data differs."""

    kind = "fixture"

    def __init__(self, host_become: bool = False) -> None:
        super().__init__("fixture")
        self.host_become = host_become
        self.batches: list[list[ProbeCall]] = []

    def _effective(self, call: ProbeCall) -> ProbeCall:
        return call.with_become(self.host_become if call.become is None else call.become)

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        self.batches.append(list(calls))
        return {c: ProbeResult(c.probe, c.params, True, ROOT_MEM if c.become else MEM) for c in calls}


class Collected(Target):
    """Collected data (the default ``_effective``): become means nothing."""

    kind = "fixture"
    live = False

    def __init__(self) -> None:
        super().__init__("fixture")
        self.batches: list[list[ProbeCall]] = []

    def _collect(self, calls: list[ProbeCall]) -> dict[ProbeCall, ProbeResult]:
        self.batches.append(list(calls))
        return {c: ProbeResult(c.probe, c.params, True, MEM) for c in calls}


def load(registry: Any, text: str) -> playbook.Playbook:
    return playbook.loads(textwrap.dedent(text), registry, "pb.yaml")


THREE = """
    name: t
    steps:
      - {id: root, check: system.memory, become: sudo}
      - {id: plain, check: system.memory}
      - {id: nosudo, check: system.memory, become: false}
"""


def statuses(result: Any) -> list[Status]:
    return [r.status for r in result.results["fixture"]]


def test_become_values_are_checked_at_load_time_with_file_and_line(registry: Any) -> None:
    with pytest.raises(ValidationError) as info:
        load(registry, """
            name: t
            steps:
              - {id: a, check: system.memory, become: root}
              - {id: b, check: system.memory, become: true}
              - {id: c, check: system.memory, become: sudo}
              - {id: d, check: system.memory, become: 0}
        """)
    found = [str(i) for i in info.value.issues]
    assert len(found) == 3, found
    for line, value in ((4, "'root'"), (5, "True"), (7, "0")):
        assert any(f"pb.yaml:{line}:" in f and "expected sudo" in f and "or false" in f and value in f
                   for f in found), found


def test_a_group_become_applies_to_sub_steps_that_do_not_say(registry: Any) -> None:
    pb = load(registry, """
        name: t
        steps:
          - id: g
            group: As root
            become: sudo
            steps:
              - {id: inherits, check: system.memory}
              - {id: drops, check: system.memory, become: false}
          - {id: outside, check: system.memory}
    """)
    assert {s.id: s.become for s in pb.all_steps()} == {"g": True, "inherits": True, "drops": False,
                                                        "outside": None}


def test_become_is_in_the_json_schema(registry: Any) -> None:
    variants = playbook_schema(registry)["$defs"]["step"]["oneOf"]
    assert all(v["properties"]["become"]["enum"] == ["sudo", False] for v in variants)


def test_a_become_result_is_never_served_to_a_step_without_become_or_the_reverse(registry: Any) -> None:
    target = Escalating()
    result = Engine(registry).run(load(registry, THREE), [target], {})
    assert statuses(result) == [Status.FAIL, Status.PASS, Status.PASS]
    collected = [c for batch in target.batches for c in batch]
    assert sorted(c.become for c in collected) == [False, True]  # one call each, prefetched, never twice
    assert len(target.batches) == 1


def test_become_false_drops_a_target_level_become(registry: Any) -> None:
    target = Escalating(host_become=True)
    result = Engine(registry).run(load(registry, THREE), [target], {})
    assert statuses(result) == [Status.FAIL, Status.FAIL, Status.PASS]


def test_the_cache_key_is_the_call_as_the_target_runs_it() -> None:
    target = Escalating()
    call = ProbeCall.make("memory")
    got = target.collect([call, call.with_become(True), call.with_become(False)])
    assert got[call].data == got[call.with_become(False)].data == MEM and got[call.with_become(True)].data == ROOT_MEM
    assert [len(b) for b in target.batches] == [2]
    assert target.for_step(True).collect([call])[call].data == ROOT_MEM  # the view tags, the cache answers
    assert len(target.batches) == 1


def test_collected_data_ignores_become(registry: Any) -> None:
    target = Collected()
    result = Engine(registry).run(load(registry, THREE), [target], {})
    assert statuses(result) == [Status.PASS] * 3
    assert [[c.become for c in b] for b in target.batches] == [[None]]


def test_local_become_without_root_is_one_clear_error_finding(registry: Any, monkeypatch: Any,
                                                               tmp_path: Any) -> None:
    monkeypatch.setattr(hosts.os, "geteuid", lambda: 1000)
    pb = load(registry, f"""
        name: t
        steps:
          - {{id: root, check: system.memory, become: sudo}}
          - {{id: plain, check: system.memory}}
          - {{id: nosudo, check: system.memory, become: false}}
          - {{id: b, backup: files, with: {{path: {tmp_path}}}, become: sudo}}
    """)
    target = LocalTarget(registry.probes)
    result = Engine(registry).run(pb, [target], {}, {"state_dir": str(tmp_path / "state")})
    by_step = {r.step: r for r in result.results["local"]}
    for step in ("root", "b"):
        (finding,) = by_step[step].findings
        assert finding.status == Status.ERROR and "needs medic run as root" in finding.summary
    assert by_step["plain"].status != Status.ERROR and by_step["nosudo"].status != Status.ERROR
    assert not (tmp_path / "state" / "backups").exists() or not any((tmp_path / "state" / "backups").iterdir())
    refused = target.collect([ProbeCall.make("memory").with_become(True)])
    assert "needs medic run as root" in (next(iter(refused.values())).error or "")


def test_local_become_as_root_runs_the_step(registry: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(hosts.os, "geteuid", lambda: 0)
    target = LocalTarget(registry.probes)
    result = Engine(registry).run(load(registry, THREE), [target], {})
    assert all(r.status != Status.ERROR for r in result.results["local"])
    call = ProbeCall.make("memory")
    assert target._effective(call.with_become(True)) == call  # one collection serves all three
