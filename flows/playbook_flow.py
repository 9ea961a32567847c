"""A playbook as a deployable Prefect flow named ``medic-playbook``, its parameters the playbook's inputs.

Each deployment (``medic-playbook/<playbook>``) gets its own parameter schema, built here from the playbook's
inputs (types, defaults, descriptions, choices as ``enum``, secret-named inputs as password fields) plus
``targets`` (a list of target specs) and ``inventory`` (a file on the worker): Prefect's UI draws the form from
it and the server refuses parameters that do not fit. The flow function's signature is built from the same
inputs (keyword-only parameters), so Prefect hands each form field to it as a keyword argument. The function
keeps only the playbook's name: a worker (``medic.flows.deployed``) or ``medic serve`` loads the playbook again in
the run's process, which is where the targets are opened.
"""

from __future__ import annotations

import inspect
import keyword
from typing import Any

from prefect import Flow, flow
from prefect.states import Failed, State

from medic.core.playbook import Playbook
from medic.flows.outcome import FLOW_NAME
from medic.kernel.errors import MedicError, UsageError
from medic.kernel.masking import is_secret_name
from medic.kernel.params import Param

EXTRA_PARAMETERS = ("targets", "inventory")
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"}, "version": {"type": "string"}, "int": {"type": "integer"},
    "float": {"type": "number"}, "bool": {"type": "boolean"}, "list": {"type": "array"},
    "mapping": {"type": "object"}, "any": {},
}
TARGETS_HELP = ("targets on the worker: local, ssh://[user@]host[:port], bundle:PATH or inventory names; "
                "empty: the playbook's own targets (or every inventory host when an inventory is given)")
INVENTORY_HELP = "inventory file of SSH hosts and groups, as a path on the worker (empty: none)"


def input_property(param: Param, position: int) -> dict[str, Any]:
    prop: dict[str, Any] = {"title": param.name, "position": position, **_JSON_TYPES[param.type]}
    if param.type == "list" and param.items != "any":
        prop["items"] = dict(_JSON_TYPES[param.items])
    if param.description:
        prop["description"] = param.description
    if param.choices:
        prop["enum"] = list(param.choices)
    if not param.required and param.default is not None:
        prop["default"] = param.default
    if is_secret_name(param.name):
        prop.update(format="password", writeOnly=True)  # the UI hides what is typed
    return prop


def parameter_schema(playbook: Playbook) -> dict[str, Any]:
    """The deployment's ``parameter_openapi_schema``: the playbook's inputs, then targets and inventory."""
    check_parameter_names(playbook)
    props = {name: input_property(param, i) for i, (name, param) in enumerate(playbook.inputs.items())}
    n = len(props)
    props["targets"] = {"title": "targets", "position": n, "type": "array", "items": {"type": "string"},
                        "description": TARGETS_HELP}
    props["inventory"] = {"title": "inventory", "position": n + 1, "type": "string", "description": INVENTORY_HELP}
    required = [name for name, param in playbook.inputs.items() if param.required]
    return {"title": "Parameters", "type": "object", "properties": props, "required": required,
            "definitions": {}}


def check_parameter_names(playbook: Playbook) -> None:
    """Inputs become keyword parameters: each must be a Python name, and not ``targets`` or ``inventory``."""
    for name in playbook.inputs:
        if not name.isidentifier() or keyword.iskeyword(name) or name in EXTRA_PARAMETERS:
            raise UsageError(f"playbook {playbook.name} ({playbook.source}): input {name!r} cannot be a deployment "
                             f"parameter (expected a Python-style name other than targets and inventory)")


def signature(playbook: Playbook) -> inspect.Signature:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(name, kw, default=inspect.Parameter.empty if p.required else p.default)
              for name, p in playbook.inputs.items()]
    params += [inspect.Parameter(name, kw, default=None) for name in EXTRA_PARAMETERS]
    return inspect.Signature(params)


def playbook_flow(playbook: Playbook) -> Flow[..., Any]:
    """The ``medic-playbook`` flow for this playbook (its signature is the playbook's inputs)."""
    check_parameter_names(playbook)
    name = playbook.name

    def medic_playbook(**parameters: Any) -> State[Any]:
        return run_deployed(name, parameters)

    medic_playbook.__signature__ = signature(playbook)  # type: ignore[attr-defined]
    return flow(name=FLOW_NAME, persist_result=False, result_serializer="json", log_prints=False,
                validate_parameters=False, description=playbook.description or f"medic playbook {name}")(medic_playbook)


def run_deployed(name: str, parameters: dict[str, Any]) -> State[Any]:
    """Run playbook ``name`` with a deployment's parameters, inside the flow run; bad input ends it Failed."""
    from medic.flows.deployed_run import run_playbook

    try:
        return run_playbook(name, parameters)
    except MedicError as exc:  # a bad input or target: the run's message, not a traceback in its logs
        return Failed(message=str(exc))
