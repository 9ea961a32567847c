"""Issue 15: the knowledge base (SQLite FTS5, porter stemming, bm25), its commands, suggestions and citations."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from kb_helpers import hostile_book, medic

from medic.plugins.kb.store import KnowledgeBase, fts_query
from medic.plugins.kb.suggest import rank

_VOCABULARY = ("dns vpn disk printer network slow login password certificate proxy mail outlook wifi driver update "
               "memory cpu backup restore database timeout firewall port service crash screen keyboard")
WORDS = _VOCABULARY.split()


def distractors(n: int, seed: int = 15) -> list[dict[str, object]]:
    """Articles sharing the planted one's vocabulary (dns or vpn, fail...) but not its meaning (never both)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.sample(WORDS, 6)
        while "dns" in words and "vpn" in words:
            words = rng.sample(WORDS, 6)
        out.append({"title": f"{words[0]} {words[1]} problem {i}", "symptoms": " ".join(words) + " fails sometimes",
                    "cause": f"{words[2]} misconfigured", "fix": f"reset the {words[3]}",
                    "checks": [f"software.{words[4]}"], "state": "published"})
    return out


PLANTED = {"title": "Name resolution breaks while the VPN is up",
           "symptoms": "DNS lookups fail as soon as the VPN client connects; host names stop resolving, IP "
                       "addresses still work.",
           "cause": "The VPN pushes an internal resolver that is unreachable from the split tunnel.",
           "fix": "Set the VPN profile's DNS to the corporate resolver reachable through the tunnel.",
           "checks": ["network.dns_resolve"], "state": "published"}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    base = KnowledgeBase(tmp_path_factory.mktemp("kb") / "kb.sqlite")
    rows = distractors(200)
    rows.insert(117, PLANTED)
    base.add_many(rows)
    return base


@pytest.mark.parametrize("query", ["dns fails after vpn", "names not resolving once connected to the VPN",
                                   "DNS lookup failed with vpn connected", "hostname resolution failing on VPN"])
def test_the_planted_article_comes_first_for_paraphrased_symptoms(kb: KnowledgeBase, query: str) -> None:
    found = kb.search(query)
    assert found and found[0].title == PLANTED["title"], [a.title for a in found[:3]]


@pytest.mark.parametrize("query", ['dns" OR *', "NEAR(dns vpn)", "title:vpn", "-dns", '"', "dns*", "^vpn",
                                   "'); DROP TABLE articles; --", "AND OR NOT", "{title symptoms}: x"])
def test_query_text_is_never_fts_syntax(kb: KnowledgeBase, query: str) -> None:
    kb.search(query)  # no sqlite3.OperationalError (an FTS5 syntax error) for any of them
    assert kb.count() == 201
    assert all(part.startswith('"') and part.endswith('"') for part in fts_query(query).split(" OR ") if part)


def test_an_article_naming_the_failing_check_outranks_one_that_only_shares_words(kb: KnowledgeBase) -> None:
    text_only = kb.search("printer queue stuck", limit=1)[0]
    ranked = rank(kb, "printer queue stuck", ["network.dns_resolve"], limit=3)
    assert ranked[0].title == PLANTED["title"] and ranked[1].id == text_only.id


def test_drafts_are_found_by_search_but_never_suggested(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path / "kb.sqlite")
    draft = kb.add("Disk full on /var", symptoms="writes fail, disk full", checks="system.disk_space")
    assert [a.id for a in kb.search("disk full")] == [draft.id]
    assert rank(kb, "disk full", ["system.disk_space"]) == []
    kb.set_state(draft.id, "published")
    assert [a.id for a in rank(kb, "disk full", ["system.disk_space"])] == [draft.id]
    edited = kb.edit(f"KB-{draft.id}", fix="rotate logs", checks=["system.disk_space", "system.inodes"])
    assert edited.fix == "rotate logs" and edited.checks == ["system.disk_space", "system.inodes"]
    assert [a.id for a in kb.search("rotate")] == [draft.id]  # the index follows edits


def test_kb_commands_end_to_end_and_the_triage_report_cites_published_articles(tmp_path: Path) -> None:
    env = {"MEDIC_STATE_DIR": str(tmp_path / "state")}
    out = medic("kb", "add", "--title", "Service health command fails", "--symptoms", "the health probe exits 3",
                "--checks", "change.command_succeeds", "--fix", "restart it", "--publish", env=env)
    assert out.returncode == 0 and "KB-1 added (published)" in out.stdout, out.stderr
    assert medic("kb", "add", "--title", "Draft about command failures", "--checks", "change.command_succeeds",
                 env=env).returncode == 0
    found = json.loads(medic("kb", "search", "health probe exiting", "--json", env=env).stdout)
    assert found[0]["id"] == 1 and found[0]["state"] == "published"
    assert "Fix:\nrestart it" in medic("kb", "show", "KB-1", env=env).stdout
    assert medic("kb", "edit", "1", "--cause", "a bad config", env=env).returncode == 0
    assert json.loads(medic("kb", "show", "1", "--json", env=env).stdout)["cause"] == "a bad config"
    missing = medic("kb", "show", "KB-99", env=env)
    assert missing.returncode == 2 and "no article KB-99" in missing.stderr and "Traceback" not in missing.stderr
    report = tmp_path / "r.md"
    run = medic("run", hostile_book(tmp_path), "--report", str(report), env=env)
    assert run.returncode == 1, run.stderr
    assert "Knowledge base:\n  KB-1 Service health command fails (medic kb show 1)" in run.stdout
    assert "Draft about" not in run.stdout  # drafts are never cited
    text = report.read_text()
    assert "- KB-1 Service health command fails (`medic kb show 1`)" in text.split("## Timings")[0]
    runs = list((tmp_path / "state" / "runs").glob("*.json"))
    suggested = medic("kb", "suggest", str(runs[0]), "--json", env=env)
    assert [a["id"] for a in json.loads(suggested.stdout)] == [1]
    assert [a["id"] for a in json.loads(medic("kb", "suggest", str(runs[0]), "--drafts", "--json",
                                              env=env).stdout)] == [1, 2]
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": [\n  oops]}')
    refused = medic("kb", "suggest", str(bad), env=env)
    assert refused.returncode == 2 and f"{bad}:2:3: not JSON" in refused.stderr


def test_words_in_more_than_half_the_articles_are_not_searched_but_one_word_always_is(kb: KnowledgeBase) -> None:
    # every distractor says "fails sometimes": "failing" stems to the same term, in 200 of 201 articles
    assert kb._telling(["failing", "vpn", "resolving"]) == ["vpn", "resolving"]
    assert kb._telling(["failing", "sometimes"]) in (["failing"], ["sometimes"])
    assert kb.search("failing sometimes")  # the rarest common word is still searched
