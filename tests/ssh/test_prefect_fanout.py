"""Fan-out through Prefect: a task per step for a few targets, one task per target for a fleet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_runner() -> Iterator[Any]:
    from prefect.testing.utilities import prefect_test_harness

    from medic.flows import runner

    with prefect_test_harness(server_startup_timeout=120):
        yield runner


def test_fleet_runs_one_task_per_target_and_matches_inline(lab, prefect_runner, runner, statuses,
                                                           monkeypatch, tmp_path):
    from medic.core.session import Session

    names: list[str] = []
    real_task = prefect_runner.task

    def counting_task(fn: Any = None, **kw: Any) -> Any:
        names.append(kw["name"])
        return real_task(fn, **kw) if fn is not None else real_task(**kw)

    monkeypatch.setattr(prefect_runner, "task", counting_task)
    fleet = {f"n{i}": {"lab": "ok"} for i in range(5)}
    inv = lab.inventory(fleet)
    session = Session(config={})
    path = tmp_path / "two.yaml"
    path.write_text("name: two\ntargets: [local]\nsteps:\n  - {id: os, check: system.os_info}\n"
                    "  - {id: mem, check: system.memory}\n")
    pb = session.load_playbook(str(path))
    for hosts, expect_per_target in ((["n0", "n1"], False), (list(fleet), True)):
        names.clear()
        targets = session.open_targets([",".join(hosts)], {"inventory": str(inv)})
        try:
            result = prefect_runner.run_with_prefect(session, pb, targets, pb.bind_inputs({}))
        finally:
            for t in targets:
                t.close()
        if expect_per_target:
            assert sorted(names) == [f"target n{i}" for i in range(5)]
        else:
            assert len(names) > len(hosts) and all(" @ n" in n for n in names)
        assert all(t.round_trips == 1 for t in targets)
        inline, _ = runner([",".join(hosts)], playbook=str(path), inventory=str(inv))
        for h in hosts:
            assert statuses(result, h) == statuses(inline, h)
