"""routing.yaml: schema validation with located errors, scheme warnings, the business calendar, and the rules that
fire for a set of findings (category and priority)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from medic.cli.main import main
from medic.kernel.errors import UsageError, ValidationError
from medic.plugins.cases import routing
from medic.plugins.cases.calendar import BusinessCalendar
from medic.plugins.cases.decide import decide

SITE = """\
scheme: four-level
levels:
  high: {response: 2h, resolution: 8h, dispatch: 1h, update: 1h}
  low: {response: 8h, resolution: 40h}
  regular: {response: 4h, resolution: 16h}
calendar: {timezone: Europe/Paris, days: [mon, tue, wed, thu, fri], hours: ["09:00", "17:00"],
           holidays: ["2026-12-25"]}
tiers: 3
categories:
  - {name: dns, check: "net.dns*", category: network}
  - {name: cve, tag: cve, category: security}
  - {finding_category: hardware, category: hardware}
priority:
  hosts: [{at_least: 10, add: 2}, {at_least: 3, add: 1}]
  users: [{at_least: 100, add: 2}, {at_least: 10, add: 1}]
  services: {payments: 2}
notify: [team-hook]
escalate: [team-hook, oncall-mail]
"""


def finding(check: str, target: str = "web1", status: str = "fail", severity: str = "medium",
            category: str = "software", **extra: object) -> dict[str, object]:
    return {"check": check, "target": target, "status": status, "severity": severity, "category": category,
            **extra}


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(SITE)
    return path


def test_the_site_file_loads_with_its_levels_calendar_and_channels(site: Path) -> None:
    r = routing.load(site)
    assert r.scheme == "four-level" and r.tiers == 3 and r.warnings == []
    assert r.levels["urgent"].budgets == {"response": 3600, "resolution": 14400, "dispatch": 1800, "update": 1800}
    assert r.levels["urgent"].business is False and r.levels["high"].business is True
    assert r.levels["regular"].budgets["update"] == 7200
    assert (r.notify, r.escalate) == (["team-hook"], ["team-hook", "oncall-mail"])


def test_schema_errors_name_the_line_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "routing.yaml"
    bad.write_text("scheme: four-level\nlevels:\n  urgent: {response: 1 hour}\ncategories:\n  - {check: x}\n")
    with pytest.raises(ValidationError) as err:
        routing.load(bad)
    text = str(err.value)
    assert f"{bad}:3:" in text and "levels.urgent.response" in text and "does not match" in text
    assert f"{bad}:5:" in text and "'category' is a required property" in text


def test_semantic_errors_a_priority_outside_the_scheme_and_a_bad_timezone(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("scheme: three-level\nlevels:\n  urgent: {response: 1h}\n")
    with pytest.raises(ValidationError, match="priority 'urgent' is not in the three-level scheme"):
        routing.load(path)
    path.write_text("calendar: {timezone: Mars/Olympus}\n")
    with pytest.raises(UsageError, match=r"calendar\.timezone 'Mars/Olympus': not a known time zone"):
        routing.load(path)


def test_validate_warns_while_high_and_low_are_unset_and_exits_0(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    empty = tmp_path / "r.yaml"
    empty.write_text("scheme: four-level\n")
    assert main(["routing", "validate", str(empty)]) == 0
    out = capsys.readouterr()
    assert "valid (four-level scheme" in out.out
    warned = [line.split(":")[2].strip() for line in out.err.splitlines()]
    assert warned == ["levels.high", "levels.regular", "levels.low"]
    assert main(["routing", "validate", str(tmp_path / "none.yaml")]) == 2
    assert "routing file" in capsys.readouterr().err


def test_the_business_calendar_counts_working_hours_only_and_skips_holidays() -> None:
    cal = BusinessCalendar("Europe/Paris", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:00",
                           frozenset({"2026-12-25"}))
    paris = ZoneInfo("Europe/Paris")

    def at(day: int, hour: int, minute: int = 0) -> float:
        return dt.datetime(2026, 12, day, hour, minute, tzinfo=paris).timestamp()

    assert cal.working_seconds(at(21, 8), at(21, 10)) == 3600  # Monday: from 9:00
    assert cal.working_seconds(at(21, 16), at(22, 10)) == 2 * 3600  # overnight does not count
    assert cal.working_seconds(at(24, 16), at(28, 10)) == 2 * 3600  # Christmas Friday and the weekend: no
    assert cal.working_seconds(at(28, 10), at(28, 9)) == 0


def test_explain_shows_the_rules_that_fired(capsys: pytest.CaptureFixture[str], site: Path, tmp_path: Path
                                            ) -> None:
    doc = {"findings": [finding("net.dns.resolve", severity="high"),
                        finding("pkg.cve", target="web2", tags=["cve"], severity="critical"),
                        finding("system.uptime", status="pass", severity="critical"),
                        *[finding("disk.smart", target=f"h{i}", category="hardware") for i in range(2)]],
           "users_affected": 12}
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(doc))
    assert main(["routing", "explain", str(path), "--routing", str(site), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    # critical 4 + 4 hosts (>= 3) 1 + 12 users (>= 10) 1 = 6 -> urgent (default four-level thresholds)
    assert (got["category"], got["priority"], got["score"]) == ("network", "urgent", 6)
    assert got["fired"][0] == "categories[0] (dns): net.dns.resolve on web1 -> category network"
    assert got["fired"][1].startswith("categories[1] (cve): pkg.cve on web2 -> category security (not used")
    assert got["fired"][2].startswith("categories[2]: disk.smart on h0 -> category hardware")
    assert main(["routing", "explain", str(path), "--routing", str(site), "--users", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("category network, priority high (routing:")
    assert "0 user(s) +0" in text and "score 5" in text


def test_priority_from_service_criticality_and_the_fallback_category(site: Path) -> None:
    r = routing.load(site)
    one = decide(r, [finding("web.tls", target="payments", severity="low", category="security")])
    assert (one.category, one.priority, one.score) == ("security", "regular", 3)  # low 1 + payments 2
    assert "no category rule matched" in one.fired[0]
    assert decide(r, [finding("x", status="pass")]).priority == "low"


def test_explain_refuses_what_is_not_findings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text('{"findings": 3}')
    assert main(["routing", "explain", str(path)]) == 2
    assert "expected a run document with 'findings'" in capsys.readouterr().err
    path.write_text("{nope")
    assert main(["routing", "explain", str(path)]) == 2
    assert f"{path}:1:2: not JSON" in capsys.readouterr().err
