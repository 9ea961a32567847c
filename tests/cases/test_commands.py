"""`medic cases ...`, `medic run --case ID`, and the collector hooks opening or joining a case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medic.cli.main import main
from medic.core import pluginmanager
from medic.plugins.cases.store import open_store


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDIC_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_case_goes_through_its_life_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cases", "open", "--title", "DNS fails after VPN", "--reporter", "ana",
                       "--contact", "ana@example.org", "--category", "network", "--json")
    case = json.loads(out)
    assert code == 0 and case["id"] == "C-00001" and case["state"] == "opened" and case["source"] == "cli"
    for argv in (("ack", "C-00001", "--by", "bob"), ("assign", "C-00001", "carol", "--tier", "2", "--by", "bob"),
                 ("note", "C-00001", "called ana", "--by", "carol"), ("wait", "C-00001", "--note", "logs asked"),
                 ("resume", "C-00001"), ("resolve", "C-00001", "--note", "resolver fixed"), ("close", "C-00001"),
                 ("reopen", "C-00001", "--note", "came back")):
        assert run(capsys, "cases", *argv)[0] == 0, argv
    code, out, _ = run(capsys, "cases", "show", "C-00001", "--json")
    shown = json.loads(out)
    assert (shown["state"], shown["assignee"], shown["tier"]) == ("in_progress", "carol", 2)
    kinds = [(e["kind"], e["data"].get("to")) for e in shown["timeline"]]
    assert kinds == [("opened", None), ("state", "acknowledged"), ("assigned", None), ("state", "dispatched"),
                     ("note", None), ("state", "waiting_customer"), ("state", "in_progress"), ("state", "resolved"),
                     ("state", "closed"), ("archived", None), ("state", "in_progress")]
    assert shown["timeline"][4]["actor"] == "carol" and shown["timeline"][4]["data"] == {"text": "called ana"}
    code, out, _ = run(capsys, "cases", "show", "C-00001")
    assert "DNS fails after VPN" in out and "waiting_customer" in out and "ana@example.org" in out


def test_list_filters_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "cases", "open", "--title", "a", "--category", "network", "--priority", "urgent")
    run(capsys, "cases", "open", "--title", "b", "--category", "security")
    run(capsys, "cases", "resolve", "C-00002")
    _code, out, _ = run(capsys, "cases", "list", "--json", "--open")
    assert [c["id"] for c in json.loads(out)] == ["C-00001"]
    _, out, _ = run(capsys, "cases", "list", "--category", "security")
    assert out.startswith("C-00002  resolved") and "C-00001" not in out
    assert run(capsys, "cases", "list", "--state", "closed")[1] == "no case\n"


def test_invalid_moves_and_unknown_cases_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "cases", "open", "--title", "a")
    code, _, err = run(capsys, "cases", "close", "C-00001")
    assert code == 2 and err == ("medic: error: case C-00001 is opened: cannot move to closed; allowed from "
                                 "opened: acknowledged, dispatched, in_progress, resolved\n")
    code, _, err = run(capsys, "cases", "reopen", "C-00001")
    assert code == 2 and "only a resolved or closed case can be reopened" in err
    code, _, err = run(capsys, "cases", "ack", "C-09999")
    assert code == 2 and err == "medic: error: no case 'C-09999' (see `medic cases list`)\n"


def test_close_has_its_own_help_and_errors_and_drafts_the_article_once(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as helped:
        main(["cases", "close", "--help"])
    out = capsys.readouterr().out
    assert helped.value.code == 0 and out.startswith("usage: medic cases close [-h] [--note NOTE] [--by BY]")
    assert "--no-article" in out and "Exit codes: 0 closed" in " ".join(out.split())
    with pytest.raises(SystemExit) as bare:
        main(["cases", "close"])
    err = capsys.readouterr().err
    assert bare.value.code == 2 and err.endswith("medic cases close: error: the following arguments are required: ID\n")
    with pytest.raises(SystemExit) as unknown:
        main(["cases", "close", "C-00001", "--colour"])
    assert unknown.value.code == 2 and "unrecognized arguments: --colour" in capsys.readouterr().err
    assert run(capsys, "cases", "close", "C-00404") == (2, "", "medic: error: no case 'C-00404' (see `medic cases "
                                                               "list`)\n")
    for title in ("a", "b", "c"):
        run(capsys, "cases", "open", "--title", title)
        run(capsys, "cases", "resolve", f"C-0000{'abc'.index(title) + 1}")
    code, out, err = run(capsys, "cases", "close", "C-00001", "--note", "fixed for good")
    assert (code, out) == (0, "case C-00001: closed\n")
    lines = err.splitlines()
    assert lines[0].startswith("case C-00001 archived: ") and "sha256" in lines[0]
    assert lines[1].startswith("case C-00001: no satisfaction request sent")  # no notify channel here
    assert lines[2:] == ["KB-1 drafted from case C-00001 (draft; medic kb edit|publish 1)"]
    code, out, err = run(capsys, "cases", "close", "C-00002", "--no-article")
    assert (code, out) == (0, "case C-00002: closed\n") and "archived" in err and "drafted" not in err
    monkeypatch.setenv("MEDIC_DISABLE_PLUGINS", "builtin_kb")
    code, out, err = run(capsys, "cases", "close", "C-00003")
    assert code == 0 and "no archive, no article: the knowledge base plugin is disabled" in err
    monkeypatch.delenv("MEDIC_DISABLE_PLUGINS")
    code, _, err = run(capsys, "cases", "close", "C-00001")  # closed already: refused, nothing drafted again
    assert code == 2 and "case C-00001 is closed: cannot move to closed" in err
    code, out, _ = run(capsys, "kb", "show", "1", "--json")
    assert code == 0 and json.loads(out)["case_id"] == "C-00001"
    assert run(capsys, "kb", "show", "2")[0] == 2  # the only article: none for C-00002 or C-00003


def _medic(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medic.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))


def test_run_with_case_attaches_the_run_and_an_unknown_case_is_refused_first(tmp_path: Path,
                                                                             state: Path) -> None:
    book = tmp_path / "tiny.yaml"
    book.write_text("name: tiny\nsteps:\n  - id: up\n    check: system.uptime\n")
    with open_store() as store:
        case = store.open("slow box")
        store.transition(case.id, "acknowledged")
    refused = _medic("run", str(book), "--engine", "inline", "--case", "C-00042")
    assert refused.returncode == 2 and "no case 'C-00042'" in refused.stderr
    assert not (state / "runs").exists()  # nothing ran
    out = _medic("run", str(book), "--engine", "inline", "--case", case.id, "--json")
    assert out.returncode in (0, 1), out.stderr
    run_id = json.loads(out.stdout)["run_id"]
    assert f"run {run_id} attached to case {case.id}" in out.stderr
    with open_store() as store:
        got = store.get(case.id)
        assert [link.ref for link in got.runs] == [run_id]
        assert got.runs[0].data["playbook"] == "tiny" and got.state == "in_progress"


def test_a_bundle_opens_a_case_and_the_next_one_from_that_agent_joins_it() -> None:
    hook = pluginmanager.load().hook  # through the entry point builtin_cases, as the collector calls it
    upload = {"agent_id": "ag-7", "agent_name": "laptop-7", "upload_id": "u1", "bundle_sha256": "a" * 64,
              "bundle_size": 10, "host": "laptop-7", "note": "wifi drops"}
    first = hook.collector_bundle_received(upload=upload, bundle_path="/srv/bundles/a.tar")
    second = hook.collector_bundle_received(upload={**upload, "upload_id": "u2", "bundle_sha256": "b" * 64},
                                            bundle_path="/b.tar")
    assert first == second == "C-00001"
    document = {"run_id": "r-9", "status": "fail", "playbook": "triage", "targets": [{"name": "bundle"}],
                "findings": [{"check": "net.dns", "target": "bundle", "status": "fail", "severity": "high",
                              "category": "network"},
                             {"check": "system.uptime", "target": "bundle", "status": "pass"}]}
    hook.collector_bundle_triaged(case_id=first, run_document=document, report_path="/srv/reports/r-9.md")
    with open_store() as store:
        case = store.get(first)
        assert (case.source, case.host, case.agent_id, case.title) == ("bundle", "laptop-7", "ag-7",
                                                                       "bundle from laptop-7: wifi drops")
        assert [b.ref for b in case.bundles] == ["a" * 64, "b" * 64]
        assert case.runs[0].data["failing"] == [{"check": "net.dns", "target": "bundle"}]
        assert case.runs[0].data["report"] == "/srv/reports/r-9.md"
        # routed by the built-in routing: severity high (3) -> regular, the finding's own category
        assert (case.category, case.priority) == ("network", "regular")
        assert [e.kind for e in store.timeline(first)][-2:] == ["updated", "routed"]
        store.transition(first, "resolved")
    third = hook.collector_bundle_received(upload={**upload, "bundle_sha256": "c" * 64}, bundle_path="/c.tar")
    assert third == "C-00002"  # the first case is resolved: a new one opens
