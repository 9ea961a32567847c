"""Issue 15: closing a case archives it (one checksummed file with its timeline, runs, report and bundles) and
asks the reporter for a rating through routing.yaml's notify channel (a real webhook receiver verifying each
signature); ``medic cases rate`` records the answer, which the report and ``medic metrics`` read."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from kb_helpers import HOSTILE, medic

from medic.plugins.cases.store import CaseStore
from medic.plugins.kb.archive import verify
from tests.channels.receiver import Receiver, running

ROUTING = ("levels:\n  urgent: {response: 1h, dispatch: 30m, resolution: 4h, update: 30m, calendar: always}\n"
           "notify: [hook]\n")


def test_closing_archives_the_case_asks_for_a_rating_and_the_rating_counts(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    state = tmp_path / "state"
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(b"bundle bytes " * 100)
    (tmp_path / "routing.yaml").write_text(ROUTING)
    with running(Receiver(secret=secret)) as receiver:
        (tmp_path / "config.yaml").write_text(json.dumps({"channels": {
            "hook": {"type": "webhook", "url": receiver.url, "secret": "env:HOOK_SECRET"}}}))
        env = {"MEDIC_STATE_DIR": str(state), "MEDIC_ROUTING": str(tmp_path / "routing.yaml"),
               "MEDIC_CONFIG": str(tmp_path / "config.yaml"), "HOOK_SECRET": secret,
               "MEDIC_CHANNEL_ALLOW": receiver.allow}
        opened = medic("cases", "open", "--title", f"VPN drops {HOSTILE}", "--priority", "urgent",
                       "--reporter", "ann", "--contact", "ann@example.org", "--json", env=env)
        case_id = json.loads(opened.stdout)["id"]
        store = CaseStore(state / "cases.sqlite")
        store.attach_bundle(case_id, "ab" * 32, {"path": str(bundle)})
        store.attach_bundle(case_id, "cd" * 32, {"path": str(tmp_path / "gone.tar.gz")})
        store.close()
        assert medic("cases", "note", case_id, "replaced the cable", env=env).returncode == 0
        assert medic("cases", "resolve", case_id, env=env).returncode == 0
        early = medic("cases", "rate", case_id, "9", env=env)
        assert early.returncode == 2 and "invalid choice" in early.stderr
        closed = medic("cases", "close", case_id, "--no-article", env=env)
        assert closed.returncode == 0, closed.stderr
        assert "satisfaction request sent to hook" in closed.stderr, closed.stderr
        asked = [json.loads(h.body) for h in receiver.hits if h.verified]
    assert len(asked) == 1 and asked[0]["type"] == "case.satisfaction", asked
    assert f"medic cases rate {case_id} SCORE" in json.dumps(asked[0])

    archive = state / "archive" / f"{case_id}.tar.gz"
    assert verify(archive)
    check = subprocess.run(["sha256sum", "-c", archive.name + ".sha256"], cwd=archive.parent, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        document = json.load(tar.extractfile("case.json"))  # type: ignore[arg-type]
        kept = tar.extractfile(f"attachments/{'ab' * 32}.tar.gz").read()  # type: ignore[union-attr]
        far = tar.extractfile("far.html").read().decode()  # type: ignore[union-attr]
    assert {"case.json", "far.md", "far.html"} <= set(names) and kept == bundle.read_bytes()
    assert document["case"]["id"] == case_id and document["missing"] == ["cd" * 32]
    kinds = [e["kind"] for e in document["timeline"]]
    assert "note" in kinds and kinds[-1] == "state"  # the whole timeline up to the closing
    assert "<script>" not in far and "VPN drops" in far
    show = json.loads(medic("cases", "show", case_id, "--json", env=env).stdout)
    archived = [e for e in show["timeline"] if e["kind"] == "archived"]
    assert archived and archived[0]["data"]["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert any(e["kind"] == "satisfaction.requested" for e in show["timeline"])

    before = json.loads(medic("metrics", "--json", env=env).stdout)
    assert before["satisfaction"]["answers"] == 0 and before["satisfaction"]["response"]["of"] == 1
    rated = medic("cases", "rate", case_id, "4", "--comment", "quick fix", env=env)
    assert rated.returncode == 0 and "satisfaction 4 recorded" in rated.stdout
    after = json.loads(medic("metrics", "--json", env=env).stdout)
    assert after["satisfaction"]["mean"] == 4.0 and after["satisfaction"]["response"]["rate"] == 1.0
    assert "Score 4: quick fix" in medic("far", case_id, env=env).stdout


def test_a_case_not_closed_is_not_asked_for_a_rating(tmp_path: Path) -> None:
    from medic.kernel.errors import UsageError
    from medic.plugins.cases.followup import rating_request

    store = CaseStore(tmp_path / "cases.sqlite")
    try:
        with pytest.raises(UsageError, match="closed case only"):
            rating_request(store, store.open("still open").id)
    finally:
        store.close()


def test_a_case_closed_again_after_a_reopen_gets_a_second_archive(tmp_path: Path) -> None:
    from medic.plugins.kb.archive import write_archive

    store = CaseStore(tmp_path / "cases.sqlite")
    try:
        case = store.open("disk full")
        first = write_archive(store, case.id, tmp_path, {"md": "# first"})
        store.add_event(case.id, "note", {"text": "came back"})
        second = write_archive(store, case.id, tmp_path, {"md": "# second"})
    finally:
        store.close()
    assert Path(first["path"]).name == f"{case.id}.tar.gz" and Path(second["path"]).name == f"{case.id}.2.tar.gz"
    assert verify(Path(first["path"])) and verify(Path(second["path"]))
    with tarfile.open(second["path"]) as tar:
        assert tar.extractfile("far.md").read() == b"# second"  # type: ignore[union-attr]
    Path(first["path"]).write_bytes(b"tampered")
    assert not verify(Path(first["path"]))
