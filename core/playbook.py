"""Playbooks (YAML format version 1): parse, validate everything before anything runs, report every problem.

    name: triage                 # required, used by `medic run NAME`
    description: ...
    version: 1                   # format version
    inputs:  {host: {type: string, default: example.org, description: ..., required: false}}
    targets: [local]             # default targets when the command line names none
    steps:   [ {id: dns, title: ..., check: network.dns_resolve, with: {host: "{{ inputs.host }}"},
                when: "...", timeout: 10, retries: 1, continue_on_error: false, become: sudo},
              {id: g, group: Title, steps: [...]} ]

``become: sudo`` runs a step with privilege escalation on SSH hosts, ``become: false`` without it even when the
host's inventory entry says ``become: sudo``; a group's ``become`` applies to its sub-steps that do not say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from medic.core import expr, template
from medic.core.steps import COMMON_KEYS, Step, ValidationContext
from medic.kernel import marks, yamlcache
from medic.kernel.errors import Issue, ValidationError
from medic.kernel.params import REQUIRED, Param, ParamError
from medic.kernel.registry import Registry

FORMAT_VERSION = 1
# triggers: read by flows.triggers; notify: by the channels plugin (plugins/channels/playbooknotify.py)
TOP_KEYS = ("name", "description", "version", "inputs", "targets", "steps", "triggers", "notify")
INPUT_KEYS = ("type", "default", "description", "required", "choices")
INPUT_TYPES = ("string", "int", "float", "bool", "list", "mapping", "version")
STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
SCOPE_ROOTS = ("inputs", "steps", "target")


@dataclass
class Playbook:
    """A validated playbook: its inputs, default targets and steps, and the file it came from."""
    name: str
    description: str
    inputs: dict[str, Param]
    targets: list[str]
    steps: list[Step]
    source: str = "<string>"
    version: int = FORMAT_VERSION
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def all_steps(self) -> list[Step]:
        return [s for top in self.steps for s in top.walk()]

    def bind_inputs(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs with defaults applied and types coerced; ValidationError lists every problem."""
        issues = [Issue(f"unknown input {k!r}; this playbook takes: {', '.join(self.inputs) or 'no inputs'}",
                        self.source, path="inputs") for k in given if k not in self.inputs]
        out: dict[str, Any] = {}
        for name, param in self.inputs.items():
            if name in given:
                try:
                    out[name] = param.coerce(given[name])
                except ParamError as exc:
                    issues.append(Issue(f"input {exc}", self.source, path=f"inputs.{name}"))
            elif param.required:
                issues.append(Issue(f"input {name!r} is required ({param.expected()}); pass --input {name}=...",
                                    self.source, path=f"inputs.{name}"))
            else:
                out[name] = param.default
        if issues:
            raise ValidationError(issues, subject=f"playbook {self.name}")
        return out


class _Parser:
    def __init__(self, registry: Registry, file: str) -> None:
        self.registry = registry
        self.file = file
        self.issues: list[Issue] = []
        self.step_ids: dict[str, int | None] = {}
        self.step_nodes: dict[tuple[str, int | None], tuple[Mapping[str, Any], str]] = {}  # (id, line) -> node

    def err(self, container: Any, key: str | int | None, path: str, message: str) -> None:
        mark = marks.mark_of(container, key)
        self.issues.append(Issue(message, self.file, mark[0] if mark else None, mark[1] if mark else None, path))

    def playbook(self, data: Any) -> Playbook | None:
        if not isinstance(data, Mapping):
            self.err(data, None, "", f"expected a mapping with keys {', '.join(TOP_KEYS)}, "
                                     f"got {'a list' if isinstance(data, list) else type(data).__name__}")
            return None
        for key in data:
            if key not in TOP_KEYS:
                self.err(data, key, key, f"unknown key {key!r}; expected one of {', '.join(TOP_KEYS)}")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.err(data, "name" if "name" in data else None, "name", "expected a non-empty string (the name)")
            name = "?"
        description = data.get("description", "")
        if not isinstance(description, str):
            self.err(data, "description", "description", "expected a string")
            description = ""
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            self.err(data, "version", "version", f"unsupported format version {version!r}; expected "
                                                 f"{FORMAT_VERSION}")
        inputs = self.inputs(data.get("inputs") or {}, data)
        targets = data.get("targets", ["local"])
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            self.err(data, "targets", "targets", "expected a list of target names, e.g. [local]")
            targets = ["local"]
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            self.err(data, "steps" if "steps" in data else None, "steps", "expected a non-empty list of steps")
            raw_steps = []
        steps = self.steps(raw_steps, "steps")
        _inherit_become(steps, None)
        return Playbook(name.strip(), description, inputs, list(targets), steps, self.file, FORMAT_VERSION, data)

    def inputs(self, raw: Any, parent: Any) -> dict[str, Param]:
        if not isinstance(raw, Mapping):
            self.err(parent, "inputs", "inputs", "expected a mapping of input name to {type, default, ...}")
            return {}
        out: dict[str, Param] = {}
        for name, spec in raw.items():
            path = f"inputs.{name}"
            if not isinstance(spec, Mapping):
                self.err(raw, name, path, "expected a mapping with type, default, description, required")
                continue
            for key in spec:
                if key not in INPUT_KEYS:
                    self.err(spec, key, f"{path}.{key}", f"unknown key {key!r}; expected one of "
                                                         f"{', '.join(INPUT_KEYS)}")
            kind = spec.get("type", "string")
            if kind not in INPUT_TYPES:
                self.err(spec, "type", f"{path}.type", f"unknown type {kind!r}; expected one of "
                                                       f"{', '.join(INPUT_TYPES)}")
                continue
            required = spec.get("required", "default" not in spec)
            if not isinstance(required, bool):
                self.err(spec, "required", f"{path}.required", "expected true or false")
                required = True
            choices = spec.get("choices") or ()
            param = Param(str(name), kind, REQUIRED,
                          str(spec.get("description", "")), tuple(choices))
            if "default" in spec:
                try:
                    default = param.coerce(spec["default"])
                except ParamError as exc:
                    self.err(spec, "default", f"{path}.default", f"default {exc}")
                    continue
                param = Param(str(name), kind, default, param.description, param.choices)
            elif not required:
                param = Param(str(name), kind, None, param.description, param.choices)
            out[str(name)] = param
        return out

    def steps(self, raw: list[Any], path: str) -> list[Step]:
        out = []
        for i in range(len(raw)):
            step = self.step(raw, i, f"{path}[{i}]")
            if step is not None:
                out.append(step)
        return out

    def step(self, parent: list[Any], index: int, path: str) -> Step | None:
        raw = parent[index]
        kinds = self.registry.step_kinds
        if not isinstance(raw, Mapping):
            self.err(parent, index, path, f"expected a step mapping with an id and one of: {', '.join(kinds)}")
            return None
        present = [k for k in raw if k in kinds]
        if len(present) > 1:  # a kind may take another kind's name as a key (an action's `backup: none`)
            present = [k for k in present if not any(k in kinds[o].extra_keys for o in present if o != k)]
        sid = raw.get("id")
        label = f"{path} (id {sid!r})" if isinstance(sid, str) else path
        if len(present) != 1:
            found = f"found {', '.join(present)}" if present else "found none"
            self.err(raw, None, label, f"expected exactly one step kind key ({', '.join(kinds)}); {found}")
            return None
        kind = kinds[present[0]]
        if not isinstance(sid, str) or not STEP_ID.match(sid):
            self.err(raw, "id" if "id" in raw else None, f"{path}.id",
                     "expected an id: letters, digits, '_' or '-', starting with a letter")
            sid = f"step{index}"
        elif sid in self.step_ids:
            self.err(raw, "id", f"{path}.id", f"duplicate step id {sid!r} (first used at line "
                                              f"{self.step_ids[sid]})")
        mark = marks.mark_of(raw)
        self.step_ids.setdefault(sid, mark[0] if mark else None)
        self.step_nodes[(sid, mark[0] if mark else None)] = (raw, f"{path} (id {sid!r})")
        allowed = set(COMMON_KEYS) | {kind.name, *kind.extra_keys} | ({"steps"} if kind.container else set())
        for key in raw:
            if key not in allowed:
                self.err(raw, key, f"{label}.{key}", f"unknown key {key!r} for a {kind.name} step; expected one "
                                                     f"of {', '.join(sorted(allowed))}")
        step = Step(id=sid, kind=kind.name, arg=raw[kind.name], file=self.file, line=mark[0] if mark else None)
        self.common(step, raw, label)
        step.extra = {k: raw[k] for k in kind.extra_keys if k in raw}
        if kind.container:
            children = raw.get("steps")
            if not isinstance(children, list) or not children:
                self.err(raw, "steps" if "steps" in raw else None, f"{label}.steps",
                         "expected a non-empty list of sub-steps")
            else:
                step.children = self.steps(children, f"{label}.steps")
        return step

    def common(self, step: Step, raw: Mapping[str, Any], label: str) -> None:
        def typed(key: str, types: tuple[type, ...], expected: str) -> Any:
            value = raw.get(key)
            if value is None:
                return None
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                self.err(raw, key, f"{label}.{key}", f"expected {expected}, got {value!r}")
                return None
            return value

        step.title = typed("title", (str,), "a string") or ""
        params = raw.get("with", {})
        if not isinstance(params, Mapping):
            self.err(raw, "with", f"{label}.with", "expected a mapping of parameter names to values")
            params = {}
        step.params = dict(params)
        step.when = typed("when", (str, bool), "an expression string") if "when" in raw else None
        if isinstance(step.when, bool):
            step.when = "true" if step.when else "false"
        timeout = typed("timeout", (int, float), "a number of seconds")
        if timeout is not None and timeout <= 0:
            self.err(raw, "timeout", f"{label}.timeout", f"expected a positive number of seconds, got {timeout}")
            timeout = None
        step.timeout = float(timeout) if timeout is not None else None
        retries = typed("retries", (int,), "a whole number of retries")
        if retries is not None and retries < 0:
            self.err(raw, "retries", f"{label}.retries", "expected 0 or more retries")
            retries = 0
        step.retries = retries or 0
        step.continue_on_error = typed("continue_on_error", (bool,), "true or false")
        become = raw.get("become")
        if become is not None and become != "sudo" and become is not False:
            self.err(raw, "become", f"{label}.become", f"expected sudo (privilege escalation) or false (none, "
                                                       f"even if the host has become: sudo), got {become!r}")
            become = None
        step.become = None if become is None else become == "sudo"


def _inherit_become(steps: list[Step], become: bool | None) -> None:
    """Sub-steps that do not say ``become`` take their group's."""
    for step in steps:
        if step.become is None:
            step.become = become
        _inherit_become(step.children, step.become)


def _check_expressions(pb: Playbook, parser: _Parser) -> None:
    """Every expression parses and names only declared inputs and earlier steps."""
    seen: set[str] = set()
    order = [s.id for s in pb.all_steps()]

    def check_text(step: Step, text: str, where: str) -> None:
        try:
            refs = expr.references(text)
        except expr.ExprError as exc:
            parser.issues.append(Issue(str(exc), pb.source, step.line, None, f"step {step.id!r}.{where}"))
            return
        for ref in refs:
            root = ref[0]
            if root not in SCOPE_ROOTS:
                parser.issues.append(Issue(f"undefined name {root!r} in {text!r}; expected one of "
                                           f"{', '.join(SCOPE_ROOTS)}", pb.source, step.line, None,
                                           f"step {step.id!r}.{where}"))
            elif root == "inputs" and (len(ref) < 2 or ref[1] not in pb.inputs):
                name = ref[1] if len(ref) > 1 else ""
                parser.issues.append(Issue(f"undefined input {name!r} in {text!r}; declared inputs: "
                                           f"{', '.join(pb.inputs) or 'none'}", pb.source, step.line, None,
                                           f"step {step.id!r}.{where}"))
            elif root == "steps" and (len(ref) < 2 or ref[1] not in seen):
                name = ref[1] if len(ref) > 1 else ""
                why = "it runs later" if name in order else "no step has that id"
                parser.issues.append(Issue(f"step {name!r} cannot be used in {text!r}: {why}", pb.source,
                                           step.line, None, f"step {step.id!r}.{where}"))

    def visit(steps: list[Step]) -> None:
        for step in steps:
            if step.when:
                check_text(step, step.when, "when")
            for name, value in step.params.items():
                for text in template.expressions(value):
                    check_text(step, text, f"with.{name}")
            for name, value in step.extra.items():
                for text in template.expressions(value):
                    check_text(step, text, str(name))
            visit(step.children)
            seen.add(step.id)

    visit(pb.steps)


def parse(data: Any, registry: Registry, file: str = "<string>") -> Playbook:
    """Build and fully validate a playbook from loaded YAML data; raise ValidationError listing every issue."""
    parser = _Parser(registry, file)
    pb = parser.playbook(data)
    if pb is not None:
        _check_expressions(pb, parser)
        vc = ValidationContext(registry, file)
        for step in pb.all_steps():
            registry.step_kinds[step.kind].validate(step, vc)
        parser.issues.extend(vc.issues)
    if parser.issues or pb is None:
        issues = [_located(issue, parser.step_nodes) for issue in parser.issues]
        issues.sort(key=lambda i: (i.line is None, i.line or 0, i.column or 0))
        raise ValidationError(issues, subject=file)
    return pb


_STEP_PATH = re.compile(r"^step '(?P<id>[^']*)'(?P<keys>(?:\.[^.]+)*)$")


def _located(issue: Issue, nodes: Mapping[tuple[str, int | None], tuple[Mapping[str, Any], str]]) -> Issue:
    """An issue reported against ``step 'ID'.key...`` (by a step kind or the expression check) at the line and
    column of that key in the step, and with the step's place in the file (``steps[1] (id 'dns').with``)."""
    match = _STEP_PATH.match(issue.path)
    found = nodes.get((match["id"], issue.line)) if match and issue.column is None else None
    if match is None or found is None:
        return issue
    node, label = found
    mark, keys, here = marks.mark_of(node), match["keys"].split(".")[1:], node
    for key in keys:
        if not isinstance(here, Mapping) or key not in here:
            break
        mark, here = marks.mark_of(here, key), here[key]
    line, column = (mark[0], mark[1]) if mark else (issue.line, None)
    return replace(issue, line=line, column=column, path=label + "".join(f".{k}" for k in keys))


def load(path: str | Path, registry: Registry) -> Playbook:
    return parse(yamlcache.load_file(path), registry, str(path))


def loads(text: str, registry: Registry, file: str = "<string>") -> Playbook:
    return parse(yamlcache.loads(text, file), registry, file)
