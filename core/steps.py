"""The step model: a playbook step, the kinds that run steps, and what a step run produces.

Step kinds are plugins (hook ``register_step_kinds``). The engine knows nothing of ``check`` or ``group``: it asks
the kind to validate a step at load time, to name the probe calls it will need (so a remote target can collect
them in one round trip), and to run it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medic.kernel.models import Category, Finding, ProbeCall, Severity, Status, cap_text, cap_texts, worst_status

if TYPE_CHECKING:
    from medic.core.target import Target
    from medic.kernel.registry import Registry

COMMON_KEYS = ("id", "title", "with", "when", "timeout", "retries", "continue_on_error", "become")


@dataclass
class Step:
    """One playbook step as parsed: its kind and argument, its `with:` parameters and its kind's other keys."""
    id: str
    kind: str
    arg: Any  # the value of the kind's key: a check id, a group title...
    params: dict[str, Any] = field(default_factory=dict)  # `with:`, may hold templates
    extra: dict[str, Any] = field(default_factory=dict)  # other keys the kind declared
    title: str = ""
    when: str | None = None
    timeout: float | None = None
    retries: int = 0
    continue_on_error: bool | None = None  # None: the kind decides (StepKind.halts_on_error)
    become: bool | None = None  # `become: sudo` True, `become: false` False, None: as the target is set up
    children: list[Step] = field(default_factory=list)
    file: str = "<playbook>"
    line: int | None = None

    @property
    def label(self) -> str:
        return self.title or f"{self.kind} {self.arg}"

    def walk(self) -> list[Step]:
        return [self, *(s for c in self.children for s in c.walk())]


@dataclass
class StepResult:
    """What one step produced on one target: its status and findings (a group's: its children's too)."""
    step: str
    kind: str
    target: str
    status: Status
    title: str = ""
    findings: list[Finding] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    children: list[StepResult] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0
    attempts: int = 1

    def __post_init__(self) -> None:
        if self.error is not None:
            self.error = cap_text(self.error)

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for c in self.children for f in c.all_findings())]

    def view(self) -> dict[str, Any]:
        """What later steps see as ``steps.<id>`` in expressions."""
        return {"status": str(self.status), "outputs": self.outputs, "error": self.error,
                "findings": [f.to_dict() for f in self.findings]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "kind": self.kind, "target": self.target, "status": str(self.status),
            "title": self.title, "findings": [f.to_dict() for f in self.findings],
            "outputs": cap_texts(self.outputs),  # capped as written; later steps saw them whole
            "children": [c.to_dict() for c in self.children], "error": self.error,
            "duration_s": round(self.duration_s, 4), "attempts": self.attempts,
        }


def status_of_findings(findings: list[Finding]) -> Status:
    return worst_status([f.status for f in findings]) if findings else Status.PASS


@dataclass(frozen=True)
class Approval:
    """A person's answer to an ``approve`` step, given through an approval channel (Prefect's UI, ...)."""

    approved: bool
    how: str  # for the finding: "answered in Prefect's UI", "no answer in Prefect's UI within 300 s"
    by: str | None = None
    comment: str | None = None


# Asks ``question`` about ``step`` on ``target`` and waits up to ``timeout`` seconds for the answer (no answer:
# not approved). ``None``: this channel cannot ask here, and the step falls back to the terminal.
Approver = Callable[[str, float, Step, "Target"], Approval | None]


def error_result(step: Step, target: Target, message: str) -> StepResult:
    """The result of a step that could not run: one ``error`` finding saying why."""
    check = str(step.arg) if step.kind == "check" else f"step.{step.id}"
    finding = Finding(check=check, target=target.name, status=Status.ERROR, severity=Severity.MEDIUM,
                      category=Category.SOFTWARE, summary=message, step=step.id)
    return StepResult(step.id, step.kind, target.name, Status.ERROR, step.label, [finding], error=message)


class StepContext:
    """What a running step can use. Built by the engine for one step on one target."""

    def __init__(
        self,
        *,
        registry: Registry,
        target: Target,
        scope: Mapping[str, Any],
        run_steps: Callable[[list[Step]], list[StepResult]],
        run_id: str,
        options: Mapping[str, Any],
        approver: Approver | None = None,
    ) -> None:
        self.registry = registry
        self.target = target
        self.scope = scope  # inputs, target, steps: the expression context
        self.run_steps = run_steps  # run child steps through the engine (containers use it)
        self.run_id = run_id
        self.options = options  # run-wide options: check_mode, state_dir...
        self.approver = approver  # where `approve` steps ask, besides the terminal (the executor's channel)

    def render(self, value: Any) -> Any:
        from medic.core.template import render

        return render(value, self.scope)


class ValidationContext:
    """Collects load-time problems for one playbook; kinds report through :meth:`error`."""

    def __init__(self, registry: Registry, file: str) -> None:
        self.registry = registry
        self.file = file
        self.issues: list[Any] = []

    def error(self, step: Step, message: str, path: str = "") -> None:
        from medic.kernel.errors import Issue

        self.issues.append(Issue(message, self.file, step.line, None, path or f"step {step.id!r}"))


class StepKind(ABC):
    """A kind of step. Subclasses set ``name`` (the YAML key that selects it) and implement ``run``."""

    name: str = ""
    description: str = ""
    extra_keys: tuple[str, ...] = ()  # keys besides COMMON_KEYS and the kind key
    container: bool = False  # True: has child `steps:`, runs them through ctx.run_steps (not a task itself)
    arg_type: str = "string"  # expected type of the kind key's value, for the JSON Schema
    # True: an ``error`` result skips the rest of its sequence unless the step says continue_on_error
    # (changes do; diagnostic checks do not: a broken probe must not hide the other findings)
    halts_on_error: bool = False

    def validate(self, step: Step, vc: ValidationContext) -> None:  # noqa: B027 - optional
        """Report problems with ``vc.error``; called once at load time, before anything runs."""

    def probe_calls(self, step: Step, params: dict[str, Any], registry: Registry) -> list[ProbeCall]:
        """Probe calls this step will make with these rendered parameters (for prefetching)."""
        return []

    @abstractmethod
    def run(self, step: Step, ctx: StepContext) -> StepResult:
        """Run the step on ``ctx.target``. Exceptions are turned into an ``error`` result by the engine."""
