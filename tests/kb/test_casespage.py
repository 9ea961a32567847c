"""Issue 15: the read-only cases page in a real browser (Debian's chromium driven by Playwright, no browser
download): the list, a case and its FAR show what they should, and no script planted in evidence runs."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kb_helpers import HOSTILE, medic

from medic.plugins.cases.store import CaseStore
from medic.plugins.casespage.app import make_app, sources
from medic.plugins.kb.store import KnowledgeBase
from medic.testing.sink import serve_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROUTING = "levels:\n  urgent: {response: 1h, dispatch: 30m, resolution: 4h, update: 30m, calendar: always}\n"


def plant(state: Path) -> dict[str, str]:
    """Two cases, one with hostile markup in its title, notes, run evidence and satisfaction; a hostile article."""
    store = CaseStore(state / "cases.sqlite")
    calm = store.open("Printer offline", priority="urgent", category="hardware", host="pc7")
    evil = store.open(f"VPN breaks DNS {HOSTILE}", priority="urgent", category="network", host="web01")
    store.transition(evil.id, "acknowledged", actor="ann")
    store.add_event(evil.id, "note", {"text": HOSTILE}, actor="ann")
    finding = {"check": "network.dns_resolve", "target": "web01", "status": "fail", "severity": "high",
               "category": "network", "summary": f"no answer {HOSTILE}", "evidence": {"stderr": HOSTILE},
               "remediation": "fix dns", "step": "dns", "subject": None}
    doc = {"run_id": "r-evil", "playbook": "triage", "status": "fail", "targets": [{"name": "web01"}],
           "summary": {"counts": {"fail": 1}, "probable_cause": finding, "next_steps": []},
           "findings": [finding], "steps": {}}
    (state / "runs").mkdir(parents=True)
    (state / "runs" / "r-evil.json").write_text(json.dumps(doc))
    store.attach_run(evil.id, "r-evil", {"status": "fail", "playbook": "triage"})
    store.add_event(evil.id, "satisfaction", {"score": 2, "comment": HOSTILE}, actor="customer")
    store.close()
    kb = KnowledgeBase(state / "kb.sqlite")
    kb.add("DNS fails while the VPN is connected", symptoms=f"lookups fail {HOSTILE}", fix=HOSTILE,
           checks="network.dns_resolve", state="published")
    kb.close()
    return {"calm": calm.id, "evil": evil.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("casespage")
    state = base / "state"
    ids = plant(state)
    (base / "routing.yaml").write_text(ROUTING)
    os.environ["MEDIC_ROUTING"] = str(base / "routing.yaml")
    try:
        src = sources(state, {"state_dir": str(state)})
    finally:
        del os.environ["MEDIC_ROUTING"]
    with serve_app(make_app(src)) as port:
        yield {"url": f"http://127.0.0.1:{port}", "ids": ids, "shots": base, "src": src}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: run tests/setup-services.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


def visit(browser: Any, url: str, shot: Path) -> tuple[str, Any]:
    """The page's text after load, with a screenshot; asserts nothing planted ran."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('script, img[onerror]').length") == 0
    text = page.inner_text("body")
    page.close()
    return text, errors


def test_the_list_shows_cases_with_their_sla_state_and_filters(browser: Any, site: dict[str, Any]) -> None:
    text, _ = visit(browser, site["url"] + "/", site["shots"] / "list.png")
    assert site["ids"]["calm"] in text and "Printer offline" in text
    assert f"VPN breaks DNS {HOSTILE}" in text  # the planted markup is shown as text
    assert "running" in text or "at risk" in text or "breached" in text
    filtered, _ = visit(browser, site["url"] + "/?category=hardware", site["shots"] / "filtered.png")
    assert "Printer offline" in filtered and "VPN breaks DNS" not in filtered


def test_a_case_shows_its_timeline_and_nothing_planted_runs(browser: Any, site: dict[str, Any]) -> None:
    text, _ = visit(browser, f"{site['url']}/cases/{site['ids']['evil']}", site["shots"] / "case.png")
    assert "Timeline" in text and "opened → acknowledged" in text.replace("\t", " ")
    assert HOSTILE in text and "r-evil" in text


def test_a_case_far_and_the_kb_search_render_evidence_inert(browser: Any, site: dict[str, Any]) -> None:
    text, _ = visit(browser, f"{site['url']}/cases/{site['ids']['evil']}/far", site["shots"] / "far.png")
    for words in ("Fault analysis report", "Probable cause", "network.dns_resolve", "SLA compliance",
                  "Satisfaction", "Score 2", "KB-1 DNS fails while the VPN is connected", HOSTILE):
        assert words in text, words
    found, _ = visit(browser, f"{site['url']}/kb?q=dns+failing+with+vpn", site["shots"] / "kb.png")
    assert "KB-1 DNS fails while the VPN is connected" in found
    article, _ = visit(browser, f"{site['url']}/kb/1", site["shots"] / "article.png")
    assert "window.__pwned=1" in article  # the article's Markdown shows the raw HTML as text


def test_beyond_loopback_a_token_from_an_owner_only_file_is_required(tmp_path: Path) -> None:
    import httpx

    from medic.plugins.casespage.auth import read_token

    app = make_app(sources(tmp_path, {"state_dir": str(tmp_path)}), token="s3cret-token-0123456789")
    with serve_app(app) as port:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/").status_code == 401
        assert httpx.get(url + "/", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        assert httpx.get(url + "/", headers={"Authorization": "Bearer s3cret-token-0123456789"}).status_code == 200
        answer = httpx.get(url + "/kb", auth=("anyone", "s3cret-token-0123456789"))
        assert answer.status_code == 200 and "default-src 'none'" in answer.headers["content-security-policy"]
    token = tmp_path / "token"
    token.write_text("s3cret-token-0123456789\n")
    token.chmod(0o644)
    refused = medic("casespage", "--bind", "0.0.0.0:18081", "--token-file", str(token))
    assert refused.returncode == 2 and "chmod 600" in refused.stderr
    token.chmod(0o600)
    assert read_token(str(token)) == "s3cret-token-0123456789"
    no_token = medic("casespage", "--bind", "0.0.0.0:8081")
    assert no_token.returncode == 2 and "needs --token-file" in no_token.stderr


def test_the_list_and_a_case_give_the_same_sla_state_and_the_list_pages_with_its_count(site: dict[str, Any]) -> None:
    import time

    import httpx

    from medic.plugins.casespage import views

    src = site["src"]
    listed = dict(re.findall(r'<a href="/cases/(C-\d+)">.*?<td class="[^"]*">([^<]*)</td>',
                             views.case_list(src, {})))
    assert listed == {c.id: views.sla_state(src, c, time.time()) for c in src.cases.list()}
    assert set(listed.values()) <= {"running", "at risk", "breached"}  # urgent, open: dispatch still counts
    first = httpx.get(site["url"] + "/?limit=1&category=network").text
    assert "1-1 of 1 matching cases (2 in all)" in first and 'id="next"' not in first
    page = httpx.get(site["url"] + "/?limit=1").text
    assert "1-1 of 2 matching cases (2 in all)" in page and site["ids"]["evil"] in page
    link = re.search(r'id="next" href="\?([^"]+)"', page)
    assert link is not None and "offset=1" in link.group(1)
    second = httpx.get(site["url"] + "/?" + link.group(1).replace("&amp;", "&")).text
    assert "2-2 of 2 matching cases" in second and site["ids"]["calm"] in second and 'id="previous"' in second


def test_the_page_evaluates_every_case_s_sla_state_before_it_serves(tmp_path: Path) -> None:
    import socket
    import sqlite3
    import subprocess
    import sys
    import threading
    import time

    state = tmp_path / "state"
    store = CaseStore(state / "cases.sqlite")
    for i in range(30):
        store.open(f"case {i}", priority="urgent")
    store.close()
    (tmp_path / "routing.yaml").write_text(ROUTING)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MEDIC_STATE_DIR": str(state), "MEDIC_ROUTING": str(tmp_path / "routing.yaml")}
    proc = subprocess.Popen([sys.executable, "-m", "medic.cli.main", "casespage", "--bind", f"127.0.0.1:{port}"],
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not any("cases page on" in line for line in lines) and proc.poll() is None:
            assert time.monotonic() < deadline, lines
            time.sleep(0.1)
        assert lines[:1] == ["SLA states of 30 cases evaluated\n"], lines
        with sqlite3.connect(state / "cases.sqlite") as db:  # before any request
            assert db.execute("SELECT count(*) FROM sla_due").fetchone()[0] == 30
    finally:
        proc.terminate()
        proc.wait(timeout=60)
