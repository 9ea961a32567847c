"""A deployed run adds its target tags in a thread beside its steps (flows/deployed_run.py). Tags only help find
the run in the UI: when the server refuses them, the error is kept for the run to log once its findings are saved,
never raised into the run (before, a raise there replaced the run's result and lost its history)."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.usefixtures("prefect_server")
def test_a_refused_tag_update_is_kept_for_the_log_not_raised() -> None:
    from medic.flows.deployed_run import _Tagging

    tagging = _Tagging(uuid.uuid4(), ["medic", "target:nowhere"])  # no such flow run: the server answers 404
    tagging.start()
    tagging.join(timeout=60)
    assert not tagging.is_alive()
    assert tagging.error is not None
    assert "404" in str(tagging.error) or "not found" in str(tagging.error).lower(), tagging.error
