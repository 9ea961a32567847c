"""Checks: pure functions of probe data and declared parameters that return outcomes.

A check declares which probe calls it needs (a function of its parameters), gets their results as a
:class:`ProbeData`, and returns one :class:`Outcome` or several (one per mount, process, ...). It never does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from medic.kernel.errors import ProbeError, ProbeUnavailable
from medic.kernel.models import Category, Finding, Outcome, ProbeCall, ProbeResult, Severity, Status
from medic.kernel.params import Param, bind

EvaluateFn = Callable[["ProbeData", dict[str, Any]], "Outcome | Iterable[Outcome]"]
NeedsFn = Callable[[dict[str, Any]], Mapping[str, ProbeCall]]


class ProbeData:
    """The probe results a check asked for, by the alias it gave them."""

    def __init__(self, results: Mapping[str, ProbeResult], target_live: bool = True) -> None:
        self._results = dict(results)
        self.target_live = target_live

    def result(self, alias: str) -> ProbeResult:
        try:
            return self._results[alias]
        except KeyError:
            raise ProbeUnavailable(f"probe data {alias!r} was not collected") from None

    def __getitem__(self, alias: str) -> Any:
        """The data of a successful probe; raises so the engine reports ``error``/``skipped`` otherwise."""
        res = self.result(alias)
        if res.unavailable:
            raise ProbeUnavailable(res.error or f"{res.probe} is not available on this target")
        if not res.ok:
            raise ProbeError(f"probe {res.probe} failed: {res.error}")
        return res.data

    def get(self, alias: str, default: Any = None) -> Any:
        try:
            return self[alias]
        except ProbeError:
            return default


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: what it is, the probe calls it needs and its pure evaluate function."""
    id: str
    title: str
    category: Category
    severity: Severity
    evaluate: EvaluateFn
    needs: NeedsFn
    params: tuple[Param, ...] = ()
    remediation: str = ""
    description: str = ""  # how warn/fail are decided, for people reading `medic checks show`
    live: bool = False  # needs a live target: reports skipped on collected data
    probes: tuple[str, ...] = field(default=())  # probe names it uses, for docs and bundle profiles

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        return bind(self.params, given, owner=f"check {self.id}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "category": str(self.category), "severity": str(self.severity),
            "params": [p.to_dict() for p in self.params], "remediation": self.remediation,
            "description": self.description, "live": self.live, "probes": list(self.probes),
        }


def check(
    id: str,
    *,
    title: str,
    category: Category | str,
    severity: Severity | str = Severity.MEDIUM,
    needs: NeedsFn | Mapping[str, ProbeCall | str],
    params: Sequence[Param] = (),
    remediation: str = "",
    description: str = "",
    live: bool = False,
) -> Callable[[EvaluateFn], EvaluateFn]:
    """Decorator: attach a CheckSpec to an evaluate function as ``fn.spec``.

    ``needs`` is either a fixed mapping alias -> probe call (or probe name) or a function of the bound parameters.
    """

    def wrap(fn: EvaluateFn) -> EvaluateFn:
        if callable(needs):
            needs_fn: NeedsFn = needs
            probe_names: tuple[str, ...] = ()
        else:
            fixed = {k: (ProbeCall.make(v) if isinstance(v, str) else v) for k, v in needs.items()}
            needs_fn = lambda _p: fixed  # noqa: E731
            probe_names = tuple(sorted({c.probe for c in fixed.values()}))
        if not probe_names:
            try:  # learn the probe names from the defaults when every parameter has one
                defaults = {p.name: p.default for p in params if not p.required}
                if len(defaults) == len(params):
                    probe_names = tuple(sorted({c.probe for c in needs_fn(defaults).values()}))
            except Exception:  # noqa: S110 - best effort, docs only
                pass
        description_text = description or (fn.__doc__ or "").strip()
        fn.spec = CheckSpec(  # type: ignore[attr-defined]
            id, title, Category(category), Severity(severity), fn, needs_fn, tuple(params), remediation,
            description_text, live, probe_names,
        )
        return fn

    return wrap


def level(value: float, warn: float, fail: float) -> Status:
    """The status of ``value`` against rising thresholds: fail at ``fail`` or more, warn at ``warn`` or more."""
    return Status.FAIL if value >= fail else Status.WARN if value >= warn else Status.PASS


def _as_outcomes(value: Outcome | Iterable[Outcome] | None) -> list[Outcome]:
    if value is None:
        return []
    if isinstance(value, Outcome):
        return [value]
    return list(value)


def evaluate(
    spec: CheckSpec,
    params: dict[str, Any],
    results: Mapping[str, ProbeResult],
    *,
    target: str,
    target_live: bool,
    step: str = "",
) -> list[Finding]:
    """Run a check on collected data; every failure mode becomes a finding, nothing escapes."""

    def finding(o: Outcome) -> Finding:
        return Finding(
            check=spec.id, target=target, status=o.status, severity=o.severity or spec.severity,
            category=spec.category, summary=o.summary, evidence=dict(o.evidence),
            remediation=spec.remediation if o.status in (Status.WARN, Status.FAIL) else "",
            step=step, subject=o.subject,
        )

    if spec.live and not target_live:
        return [finding(Outcome(Status.SKIPPED, "needs a live target; not available from collected data"))]
    try:
        outcomes = _as_outcomes(spec.evaluate(ProbeData(results, target_live), params))
    except ProbeUnavailable as exc:
        outcomes = [Outcome(Status.SKIPPED, str(exc))]
    except ProbeError as exc:
        outcomes = [Outcome(Status.ERROR, str(exc))]
    except Exception as exc:  # a bug in a check or unexpected data shape: report, go on
        outcomes = [Outcome(Status.ERROR, f"check raised {type(exc).__name__}: {exc}")]
    if not outcomes:
        outcomes = [Outcome(Status.ERROR, "check returned no outcome")]
    return [finding(o) for o in outcomes]
