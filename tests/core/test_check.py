"""core/check.py: the check decorator, ProbeData and evaluate(), each behaviour named exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from medic.core.check import CheckSpec, ProbeData, check, evaluate, level
from medic.kernel.errors import ProbeError, ProbeUnavailable
from medic.kernel.models import Category, Outcome, ProbeCall, ProbeResult, Severity, Status
from medic.kernel.params import Param, ParamError


def ok(probe: str, data: Any) -> ProbeResult:
    return ProbeResult(probe, {}, True, data)


# -- ProbeData ---------------------------------------------------------------------------------------------------

def test_probe_data_gives_the_data_of_a_successful_probe() -> None:
    data = ProbeData({"mem": ok("memory", {"total": 4})})
    assert data["mem"] == {"total": 4}
    assert data.get("mem") == {"total": 4}
    assert data.result("mem").probe == "memory"
    assert data.target_live is True
    assert ProbeData({}, target_live=False).target_live is False


def test_probe_data_not_collected_is_unavailable_naming_the_alias() -> None:
    data = ProbeData({})
    with pytest.raises(ProbeUnavailable) as err:
        data["mem"]
    assert str(err.value) == "probe data 'mem' was not collected"
    assert data.get("mem") is None
    assert data.get("mem", "fallback") == "fallback"


def test_an_unavailable_probe_says_why_or_names_the_probe() -> None:
    with_reason = ProbeData({"fw": ProbeResult("firewall", {}, False, error="no nft here", unavailable=True)})
    with pytest.raises(ProbeUnavailable) as err:
        with_reason["fw"]
    assert str(err.value) == "no nft here"
    without = ProbeData({"fw": ProbeResult("firewall", {}, False, unavailable=True)})
    with pytest.raises(ProbeUnavailable) as err:
        without["fw"]
    assert str(err.value) == "firewall is not available on this target"


def test_a_failed_probe_is_a_probe_error_not_unavailable() -> None:
    data = ProbeData({"fw": ProbeResult("firewall", {}, False, error="permission denied")})
    with pytest.raises(ProbeError) as err:
        data["fw"]
    assert not isinstance(err.value, ProbeUnavailable)
    assert str(err.value) == "probe firewall failed: permission denied"
    assert data.get("fw", 7) == 7


def test_probe_data_copies_its_mapping() -> None:
    given = {"mem": ok("memory", 1)}
    data = ProbeData(given)
    given.clear()
    assert data["mem"] == 1


# -- the decorator -----------------------------------------------------------------------------------------------

def test_fixed_needs_become_probe_calls_and_sorted_probe_names() -> None:
    @check("demo.fixed", title="Fixed", category="network", needs={"b": "zeta", "a": ProbeCall.make("alpha", x=1)})
    def fixed(data: ProbeData, p: dict[str, Any]) -> Outcome:
        """How it decides."""
        return Outcome(Status.PASS, "ok")

    spec: CheckSpec = fixed.spec  # type: ignore[attr-defined]
    assert spec.needs({}) == {"b": ProbeCall("zeta"), "a": ProbeCall.make("alpha", x=1)}
    assert spec.probes == ("alpha", "zeta")
    assert spec.category is Category.NETWORK
    assert spec.severity is Severity.MEDIUM
    assert spec.description == "How it decides."
    assert spec.evaluate is fixed
    assert spec.live is False


def test_probe_names_learned_from_defaults_when_every_parameter_has_one() -> None:
    params = [Param("probe", default="disk_usage"), Param("n", "int", 1)]

    @check("demo.fn", title="Fn", category="hardware", severity="high", needs=lambda p: {"x": p["probe"]},
           params=params, description="explicit", live=True, remediation="fix it")
    def fn(data: ProbeData, p: dict[str, Any]) -> Outcome:
        """Ignored: the explicit description wins."""
        return Outcome(Status.PASS, "ok")

    spec: CheckSpec = fn.spec  # type: ignore[attr-defined]
    # needs returned a str, not a ProbeCall: learning tolerates it (best effort) and learns nothing
    assert spec.probes == ()
    assert spec.description == "explicit"
    assert spec.severity is Severity.HIGH and spec.live is True and spec.remediation == "fix it"
    assert spec.params == tuple(params)


def test_probe_names_learned_from_a_needs_function() -> None:
    @check("demo.learn", title="L", category="software",
           needs=lambda p: {"a": ProbeCall.make(p["probe"]), "b": ProbeCall.make("alpha")},
           params=[Param("probe", default="zeta")])
    def learn(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, "ok")

    assert learn.spec.probes == ("alpha", "zeta")  # type: ignore[attr-defined]
    assert learn.spec.description == ""  # type: ignore[attr-defined]


def test_no_probe_names_when_a_parameter_is_required() -> None:
    called: list[dict[str, Any]] = []

    def needs(p: dict[str, Any]) -> dict[str, ProbeCall]:
        called.append(p)
        return {"a": ProbeCall.make("alpha")}

    @check("demo.req", title="R", category="software", needs=needs,
           params=[Param("host"), Param("port", "int", 22)])
    def req(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, "ok")

    assert req.spec.probes == ()  # type: ignore[attr-defined]
    assert called == []


def test_bind_names_the_check() -> None:
    @check("demo.bind", title="B", category="software", needs={}, params=[Param("port", "int", 22)])
    def bound(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, "ok")

    spec: CheckSpec = bound.spec  # type: ignore[attr-defined]
    assert spec.bind({}) == {"port": 22}
    with pytest.raises(ParamError) as err:
        spec.bind({"port": "x"})
    assert str(err.value) == "check demo.bind: port: got str 'x', expected an integer"
    assert spec.to_dict() == {
        "id": "demo.bind", "title": "B", "category": "software", "severity": "medium",
        "params": [{"name": "port", "type": "int", "description": "", "required": False, "default": 22}],
        "remediation": "", "description": "", "live": False, "probes": [],
    }


@pytest.mark.parametrize(("value", "status"), [(0, Status.PASS), (79.9, Status.PASS), (80, Status.WARN),
                                                (89.9, Status.WARN), (90, Status.FAIL), (100, Status.FAIL)])
def test_level_is_inclusive_at_each_threshold(value: float, status: Status) -> None:
    assert level(value, 80, 90) is status


# -- evaluate ----------------------------------------------------------------------------------------------------

def make(fn: Any, *, live: bool = False, severity: str = "low") -> CheckSpec:
    return check("demo.eval", title="E", category="security", severity=severity, needs={}, live=live,
                 remediation="do this")(fn).spec


def run(spec: CheckSpec, *, live: bool = True, results: dict[str, ProbeResult] | None = None) -> list[Any]:
    return evaluate(spec, {}, results or {}, target="web1", target_live=live, step="s1")


def test_findings_carry_the_check_target_step_and_remediation_for_warn_and_fail_only() -> None:
    def many(data: ProbeData, p: dict[str, Any]) -> Iterator[Outcome]:
        yield Outcome(Status.PASS, "fine", {"a": 1}, subject="/")
        yield Outcome(Status.WARN, "hmm", subject="/var")
        yield Outcome(Status.FAIL, "bad", severity=Severity.CRITICAL)
        yield Outcome(Status.SKIPPED, "n/a")

    findings = run(make(many))
    assert [f.status for f in findings] == [Status.PASS, Status.WARN, Status.FAIL, Status.SKIPPED]
    assert [f.remediation for f in findings] == ["", "do this", "do this", ""]
    assert [f.severity for f in findings] == [Severity.LOW, Severity.LOW, Severity.CRITICAL, Severity.LOW]
    assert [f.subject for f in findings] == ["/", "/var", None, None]
    first = findings[0]
    assert (first.check, first.target, first.step, first.category, first.summary, first.evidence) == (
        "demo.eval", "web1", "s1", Category.SECURITY, "fine", {"a": 1})


def test_a_live_check_on_collected_data_is_skipped_without_running() -> None:
    ran: list[bool] = []

    def live(data: ProbeData, p: dict[str, Any]) -> Outcome:
        ran.append(True)
        return Outcome(Status.PASS, "ok")

    spec = make(live, live=True)
    [finding] = run(spec, live=False)
    assert finding.status is Status.SKIPPED
    assert finding.summary == "needs a live target; not available from collected data"
    assert ran == []
    assert run(spec, live=True)[0].status is Status.PASS


def test_target_liveness_reaches_the_check() -> None:
    def seen(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, f"live={data.target_live}")

    assert run(make(seen), live=False)[0].summary == "live=False"
    assert run(make(seen), live=True)[0].summary == "live=True"


def test_unavailable_data_is_skipped_a_failed_probe_is_an_error() -> None:
    def reads(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, str(data["fw"]))

    [skipped] = run(make(reads), results={"fw": ProbeResult("firewall", {}, False, unavailable=True)})
    assert (skipped.status, skipped.summary) == (Status.SKIPPED, "firewall is not available on this target")
    [error] = run(make(reads), results={"fw": ProbeResult("firewall", {}, False, error="denied")})
    assert (error.status, error.summary) == (Status.ERROR, "probe firewall failed: denied")
    assert error.remediation == ""


def test_a_raising_check_is_one_error_finding_naming_the_exception() -> None:
    def broken(data: ProbeData, p: dict[str, Any]) -> Outcome:
        raise KeyError("total")

    [finding] = run(make(broken))
    assert finding.status is Status.ERROR
    assert finding.summary == "check raised KeyError: 'total'"


@pytest.mark.parametrize("returned", [None, [], ()])
def test_no_outcome_is_an_error(returned: Any) -> None:
    [finding] = run(make(lambda data, p: returned))
    assert (finding.status, finding.summary) == (Status.ERROR, "check returned no outcome")


def test_params_reach_the_check() -> None:
    spec = make(lambda data, p: Outcome(Status.PASS, str(p)))
    assert evaluate(spec, {"n": 3}, {}, target="t", target_live=True)[0].summary == "{'n': 3}"
    assert evaluate(spec, {}, {}, target="t", target_live=True)[0].step == ""


def test_fixed_needs_name_their_probes_even_with_a_required_parameter() -> None:
    @check("demo.fixedreq", title="F", category="software", needs={"a": "alpha"}, params=[Param("host")])
    def fixedreq(data: ProbeData, p: dict[str, Any]) -> Outcome:
        return Outcome(Status.PASS, "ok")

    assert fixedreq.spec.probes == ("alpha",)  # type: ignore[attr-defined]
