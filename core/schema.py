"""JSON Schema (draft 2020-12) of playbook format 1, generated from the installed step kinds and checks."""

from __future__ import annotations

from typing import Any

from medic.core.playbook import INPUT_TYPES, STEP_ID
from medic.kernel.registry import Registry

_JSON_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array",
               "mapping": "object", "version": "string", "any": {}}


def _template_or(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "string", "pattern": r"\{\{.*\}\}"}]}


def _param_schema(param: Any) -> dict[str, Any]:
    kind = _JSON_TYPES[param.type]
    schema: dict[str, Any] = {"type": kind} if isinstance(kind, str) else {}
    if param.description:
        schema["description"] = param.description
    if param.choices:
        schema["enum"] = list(param.choices)
    return _template_or(schema)


def playbook_schema(registry: Registry) -> dict[str, Any]:
    common = {
        "id": {"type": "string", "pattern": STEP_ID.pattern},
        "title": {"type": "string"},
        "with": {"type": "object"},
        "when": {"type": ["string", "boolean"], "description": "safe expression over inputs, steps, target"},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
        "retries": {"type": "integer", "minimum": 0},
        "continue_on_error": {"type": "boolean"},
        "become": {"enum": ["sudo", False], "description": "sudo: privilege escalation on SSH hosts; false: none, "
                                                           "even if the host has become: sudo"},
    }
    variants = []
    for name in registry.step_kinds:
        kind = registry.step_kinds[name]
        props: dict[str, Any] = {**common, name: {"type": _JSON_TYPES.get(kind.arg_type, "string"),
                                                  "description": kind.description}}
        for key in kind.extra_keys:
            props[key] = {}
        if kind.container:
            props["steps"] = {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1}
        variant: dict[str, Any] = {"type": "object", "required": ["id", name], "properties": props,
                                   "additionalProperties": False}
        if name == "check":
            variant["allOf"] = [_check_variant(registry, cid) for cid in registry.checks]
            props["check"] = {"enum": list(registry.checks)}
        variants.append(variant)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://medic.invalid/schemas/playbook-1.json",
        "title": "medic playbook (format 1)",
        "type": "object",
        "required": ["name", "steps"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "version": {"const": 1},
            "inputs": {"type": "object", "additionalProperties": {"$ref": "#/$defs/input"}},
            "targets": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
            "triggers": {"type": "array", "items": {"type": "object"}},  # checked by medic playbooks validate
            "notify": {"type": "array", "items": {"type": "string", "minLength": 1}},  # NAME[:ARG][@EVENT,...]
        },
        "$defs": {
            "input": {"type": "object", "additionalProperties": False, "properties": {
                "type": {"enum": list(INPUT_TYPES)}, "default": {}, "description": {"type": "string"},
                "required": {"type": "boolean"}, "choices": {"type": "array"}}},
            "step": {"oneOf": variants},
        },
    }


def _check_variant(registry: Registry, check_id: str) -> dict[str, Any]:
    spec = registry.checks[check_id]
    with_schema = {"type": "object", "additionalProperties": False,
                   "properties": {p.name: _param_schema(p) for p in spec.params},
                   "required": [p.name for p in spec.params if p.required]}
    return {"if": {"properties": {"check": {"const": check_id}}, "required": ["check"]},
            "then": {"properties": {"with": with_schema},
                     **({"required": ["with"]} if with_schema["required"] else {})}}
