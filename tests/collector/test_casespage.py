"""Issue 15: the collector serves the read-only cases page over its TLS listener, behind its own bearer tokens:
refused without a token, with an unknown or revoked one, and with the token of an agent not in cases_viewers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_helpers import MEDIC, Running, start_collector

from medic.plugins.collector.store import Store


@pytest.fixture(scope="module")
def viewing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_collector(tmp_path_factory.mktemp("viewing"), "cases_viewers: [helpdesk]\n")
    try:
        yield running
    finally:
        running.server.stop()


def open_case(running: Running, title: str) -> None:
    import subprocess

    done = subprocess.run([MEDIC, "cases", "open", "--title", title], capture_output=True, text=True, timeout=60,
                          env=running.server.env)
    assert done.returncode == 0, done.stderr


def test_the_collector_serves_the_cases_page_to_a_listed_agent_only(viewing: Running) -> None:
    open_case(viewing, "Printer <b>offline</b> on floor 3")
    helpdesk, endpoint = viewing.enroll("helpdesk"), viewing.enroll("pc-9")
    with viewing.server.client() as anonymous:
        refused = anonymous.get("/")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    with viewing.client("not-a-token-of-anyone") as stranger:
        assert stranger.get("/kb").status_code == 401
    with viewing.client(str(endpoint["token"])) as agent:
        forbidden = agent.get("/")
        assert forbidden.status_code == 403 and "cases_viewers" in forbidden.json()["detail"]
    with viewing.client(str(helpdesk["token"])) as viewer:
        page = viewer.get("/")
        assert page.status_code == 200, page.text
        assert "Printer &lt;b&gt;offline&lt;/b&gt; on floor 3" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert viewer.get("/kb?q=printer").status_code == 200
    store = Store(viewing.directory / "state.sqlite")
    try:
        store.revoke(str(helpdesk["agent_id"]))
    finally:
        store.close()
    with viewing.client(str(helpdesk["token"])) as revoked:
        assert revoked.get("/").status_code == 401  # looked up on every request


def test_without_cases_viewers_the_collector_has_no_page(collector: Running, agent: dict[str, object]) -> None:
    with collector.client(str(agent["token"])) as client:
        assert client.get("/").status_code == 404


def test_cases_viewers_must_be_a_list_of_names(tmp_path: Path) -> None:
    from medic.plugins.collector import config

    (tmp_path / config.CONFIG_NAME).write_text("cases_viewers: helpdesk\n")
    with pytest.raises(config.UsageError, match="cases_viewers: expected a list of agent names"):
        config.load(tmp_path)
