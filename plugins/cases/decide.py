"""Deciding a case's category and priority from findings, with the reasons (``medic routing explain``).

Only problem findings count (status fail, error or warn). Category: the first ``categories`` rule of routing.yaml
that matches one of them (``check`` glob, ``finding_category``, ``tag`` among the finding's ``tags``), else the
worst problem finding's own category. Priority: a score = the worst severity's weight + the ``hosts`` step reached
by the number of distinct targets + the ``users`` step reached by the users affected + the highest ``services``
criticality among the targets, subjects and ``evidence.service`` named; the first ``levels`` threshold the score
reaches gives the priority.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from medic.plugins.cases.routing import SCHEMES, Routing

PROBLEMS = ("fail", "error", "warn")
_STATUS_RANK = {"fail": 3, "error": 2, "warn": 1}
_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True)
class Decision:
    category: str | None
    priority: str
    score: int
    fired: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"category": self.category, "priority": self.priority, "score": self.score, "fired": self.fired}


def findings_of(document: Any) -> tuple[list[dict[str, Any]], int]:
    """The findings and users affected of FINDINGS.json: a run document (``findings``, optional
    ``users_affected``) or a plain list of findings."""
    if isinstance(document, list):
        return [f for f in document if isinstance(f, dict)], 0
    if isinstance(document, dict) and isinstance(document.get("findings"), list):
        return [f for f in document["findings"] if isinstance(f, dict)], int(document.get("users_affected") or 0)
    raise ValueError("expected a run document with 'findings' (medic run --json) or a list of findings")


class _Rule:
    def __init__(self, index: int, spec: dict[str, Any]) -> None:
        self.label = f"categories[{index}]" + (f" ({spec['name']})" if spec.get("name") else "")
        self.check = re.compile(fnmatch.translate(spec["check"])).match if "check" in spec else None
        self.finding_category = spec.get("finding_category")
        self.tag = spec.get("tag")
        self.category = spec["category"]

    def matches(self, f: dict[str, Any]) -> bool:
        return ((self.check is None or bool(self.check(str(f.get("check", "")))))
                and (self.finding_category is None or f.get("category") == self.finding_category)
                and (self.tag is None or self.tag in (f.get("tags") or ())))


def _rules(routing: Routing) -> list[_Rule]:
    cached: list[_Rule] | None = getattr(routing, "_compiled", None)
    if cached is None:
        cached = [_Rule(i, spec) for i, spec in enumerate(routing.categories)]
        object.__setattr__(routing, "_compiled", cached)
    return cached


def _worst(problems: list[dict[str, Any]]) -> dict[str, Any]:
    return max(problems, key=lambda f: (_SEVERITY_RANK.get(str(f.get("severity")), 0),
                                        _STATUS_RANK.get(str(f.get("status")), 0)))


def _category(routing: Routing, problems: list[dict[str, Any]], fired: list[str]) -> str | None:
    chosen = None
    for rule in _rules(routing):
        hit = next((f for f in problems if rule.matches(f)), None)
        if hit is not None:
            fired.append(f"{rule.label}: {hit.get('check')} on {hit.get('target')} -> category {rule.category}"
                         + ("" if chosen is None else " (not used: an earlier rule decided)"))
            chosen = chosen or rule.category
    if chosen is None:
        worst = _worst(problems)
        chosen = worst.get("category")
        fired.append(f"no category rule matched: the worst finding's own category ({worst.get('check')}: "
                     f"{chosen})")
    return str(chosen) if chosen else None


def _step(steps: list[tuple[int, int]], count: int) -> int:
    return next((add for at_least, add in steps if count >= at_least), 0)


def _services(routing: Routing, problems: Iterable[dict[str, Any]]) -> tuple[int, str | None]:
    best, name = 0, None
    for f in problems:
        evidence = f.get("evidence")
        evidence = evidence if isinstance(evidence, dict) else {}
        for candidate in (f.get("target"), f.get("subject"), evidence.get("service")):
            weight = routing.services.get(str(candidate)) if candidate is not None else None
            if weight is not None and (name is None or weight > best):
                best, name = weight, str(candidate)
    return best, name


def decide(routing: Routing, findings: list[dict[str, Any]], users: int = 0) -> Decision:
    problems = [f for f in findings if f.get("status") in PROBLEMS]
    lowest = SCHEMES[routing.scheme][-1]
    if not problems:
        return Decision(None, lowest, 0, ["no failing, erroring or warning finding: lowest priority"])
    fired: list[str] = []
    category = _category(routing, problems, fired)
    worst = _worst(problems)
    severity = str(worst.get("severity", "info"))
    sev = routing.severity.get(severity, 0)
    hosts = len({f.get("target") for f in problems})
    host_add, user_add = _step(routing.hosts, hosts), _step(routing.users, users)
    service_add, service = _services(routing, problems)
    score = sev + host_add + user_add + service_add
    fired.append(f"severity {severity} ({worst.get('check')}) +{sev}; {hosts} host(s) +{host_add}; {users} "
                 f"user(s) +{user_add}; service {service or '-'} +{service_add}: score {score}")
    priority = next((p for at_least, p in routing.thresholds if score >= at_least), lowest)
    reached = next((at_least for at_least, p in routing.thresholds if score >= at_least), None)
    fired.append(f"priority {priority}" + (f" (score {score} >= {reached})" if reached is not None
                                           else " (no threshold reached: the lowest)"))
    return Decision(category, priority, score, fired)
