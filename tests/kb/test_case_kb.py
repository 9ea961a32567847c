"""Issue 15: closing a case drafts its article; a case's FAR; ``medic feedback`` and ``medic metrics``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kb_helpers import HOSTILE, Tags, hostile_book, medic

from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.metrics import compute, period

HOUR, DAY = 3600.0, 86400.0
ROUTING = "levels:\n  urgent: {response: 1h, dispatch: 30m, resolution: 4h, update: 30m, calendar: always}\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "routing.yaml").write_text(ROUTING)
    return {"MEDIC_STATE_DIR": str(tmp_path / "state"), "MEDIC_ROUTING": str(tmp_path / "routing.yaml")}


def test_closing_a_case_drafts_its_article_and_its_far_has_every_case_section(tmp_path: Path,
                                                                             env: dict[str, str]) -> None:
    opened = medic("cases", "open", "--title", "Health probe fails <b>x</b>", "--priority", "urgent",
                   "--category", "software", "--host", "web01", "--json", env=env)
    assert opened.returncode == 0, opened.stderr
    case_id = json.loads(opened.stdout)["id"]
    assert medic("cases", "ack", case_id, env=env).returncode == 0
    assert medic("cases", "note", case_id, HOSTILE, env=env).returncode == 0
    assert medic("run", hostile_book(tmp_path), "--case", case_id, env=env).returncode == 1
    assert medic("cases", "resolve", case_id, "--note", "restarted the **service**", env=env).returncode == 0
    closed = medic("cases", "close", case_id, env=env)
    assert closed.returncode == 0 and f"KB-1 drafted from case {case_id}" in closed.stderr, closed.stderr
    article = json.loads(medic("kb", "show", "1", "--json", env=env).stdout)
    assert article["state"] == "draft" and article["case_id"] == case_id
    assert article["checks"] == ["change.command_succeeds"] and "restarted the **service**" in article["fix"]
    assert article["title"] == "Health probe fails <b>x</b>"
    assert medic("feedback", case_id, "4", "--comment", "<img src=x onerror=alert(1)>", env=env).returncode == 0
    far = tmp_path / "far.html"
    out = medic("far", case_id, "-o", str(far), env=env)
    assert out.returncode == 0, out.stderr
    tags = Tags(far.read_text())
    assert tags.inert()
    text = "".join(tags.text)
    for words in ("Timeline", "SLA compliance", "response", "Satisfaction", "Score 4: <img src=x onerror=alert(1)>",
                  "Resolution", HOSTILE, "Health probe fails <b>x</b>"):
        assert words in text, words
    assert "<strong>service</strong>" in far.read_text()  # the resolution note is Markdown
    assert medic("kb", "publish", "1", env=env).returncode == 0
    suggested = medic("kb", "suggest", case_id, "--json", env=env)  # a case id: its title, notes and runs
    assert [a["id"] for a in json.loads(suggested.stdout)] == [1], suggested.stderr
    md = medic("far", case_id, env=env)
    assert md.returncode == 0 and "## SLA compliance" in md.stdout and "## Timeline" in md.stdout
    assert medic("far", "C-99999", env=env).returncode == 2


def _case(store: CaseStore, clock: list[float], title: str, host: str, run_id: str | None, state: Path,
          ack_after: float, reopen: bool = False) -> str:
    case = store.open(title, priority="urgent", host=host)
    if run_id:
        doc = {"run_id": run_id, "status": "fail", "findings": [
            {"check": "network.dns_resolve", "target": host, "status": "fail", "summary": "no answer"}]}
        (state / "runs").mkdir(parents=True, exist_ok=True)
        (state / "runs" / f"{run_id}.json").write_text(json.dumps(doc))
        store.attach_run(case.id, run_id, {"status": "fail"})
    clock[0] += ack_after
    store.transition(case.id, "in_progress")
    clock[0] += 10 * 60
    store.transition(case.id, "resolved")
    if reopen:
        store.transition(case.id, "in_progress")
        store.transition(case.id, "resolved")
    store.transition(case.id, "closed")
    return case.id


def test_metrics_follow_their_documented_definitions(tmp_path: Path, env: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_ROUTING", env["MEDIC_ROUTING"])
    state = tmp_path / "state"
    clock = [1_800_000_000.0]
    store = CaseStore(state / "cases.sqlite", clock=lambda: clock[0])
    a = _case(store, clock, "dns", "web01", "r-a", state, ack_after=10 * 60)          # met, repeats below
    store.add_event(a, "satisfaction", {"score": 2})
    store.add_event(a, "satisfaction", {"score": 5})                                     # the newest counts
    clock[0] += 2 * DAY
    b = _case(store, clock, "dns again", "web01", "r-b", state, ack_after=2 * HOUR)    # breached response
    store.add_event(b, "satisfaction", {"score": 3})
    clock[0] += 20 * DAY
    _case(store, clock, "printer", "pc7", None, state, ack_after=5 * 60, reopen=True)  # reopened
    clock[0] += 40 * DAY
    store.open("still open", priority="urgent")
    old = compute(store, state, period("30d"), clock[0], repeat_days=7)
    assert old["closed"] == 0 and old["first_time_resolution"]["rate"] is None
    m = compute(store, state, period("70d"), clock[0], repeat_days=7)
    assert m["closed"] == 3
    assert m["satisfaction"] == {"mean": 4.0, "answers": 2, "response": {"rate": None, "count": 0, "of": 0}}
    assert m["first_time_resolution"]["count"] == 2 and m["first_time_resolution"]["of"] == 3
    assert m["repeat_fault"]["cases"] == [a]  # b came back on web01 with the same check 2 days after a closed
    assert compute(store, state, period("70d"), clock[0], repeat_days=1)["repeat_fault"]["count"] == 0
    assert m["sla_compliance"]["urgent"]["count"] == 2 and m["sla_compliance"]["urgent"]["of"] == 3
    out = medic("metrics", "--since", "70d", env={**env, "MEDIC_STATE_DIR": str(state)})
    assert out.returncode == 0 and "cases closed: 0" in out.stdout  # simulated closings: 2027, after now
    bad = medic("metrics", "--since", "soon", env=env)
    assert bad.returncode == 2 and "--since 'soon'" in bad.stderr
