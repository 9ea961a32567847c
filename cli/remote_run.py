"""The fast path of ``medic run``: submit to a served deployment over Prefect's REST API and follow the run.

With ``PREFECT_API_URL`` set and a ``medic serve`` or ``medic worker`` polling ``medic-playbook/<playbook>``,
``medic run PLAYBOOK`` creates a flow run of that deployment (``POST /deployments/{id}/create_flow_run``, the
inputs as its parameters), follows it (its state, each finished step, with ``-v`` its log lines) and prints the
findings from the run's ``medic-findings`` artifact: the same findings, probable cause and exit code (0, 1, 3)
as a run here, without importing Prefect in this process. The run on the worker tells the channels of the
worker's configuration and of the playbook's ``notify:`` (medic.flows.deployed_run), as a run here would.
``MEDIC_SUBMIT`` (or ``--submit``) chooses:

- ``auto`` (default): the fast path when it applies, else the run happens here, saying why on stderr when a
  server is set; ``server``: the fast path or a one-line error (exit 2); ``local``: never submit.

It does not apply to ``--engine inline``, a playbook given as a file, ``--check``, ``--limit``, ``--notify`` and
``bundle:`` targets (all of which only make sense here), nor, on a server that is not on this machine, to the
``local`` target, the playbook's default targets or ``--inventory`` (they would name the worker's machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from medic.cli.run import parse_inputs
from medic.kernel.errors import UsageError
from medic.kernel.params import ParamError, coerce_value

MODES = ("auto", "server", "local")
SCHEMA_TYPES = {"integer": "int", "number": "float", "boolean": "bool", "array": "list", "object": "mapping"}


def add_option(parser: Any) -> None:
    parser.add_argument("--submit", choices=MODES, default=None,
                        help="auto (default, MEDIC_SUBMIT): submit to the served deployment medic-playbook/PLAYBOOK "
                             "on PREFECT_API_URL when there is one; server: always; local: run here")


def mode_of(args: argparse.Namespace) -> str:
    mode = args.submit or os.environ.get("MEDIC_SUBMIT", "auto") or "auto"
    if mode not in MODES:
        raise UsageError(f"MEDIC_SUBMIT={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def try_fast_path(args: argparse.Namespace) -> int | None:
    """The exit code of the run done by the server, or None: run here (why is said on stderr)."""
    mode = mode_of(args)
    if args.engine == "inline" and mode != "server":
        return None  # no server is asked anything: nothing of the server plugin imported (medic run's start-up)
    from medic.plugins.server import settings as cfg

    settings = cfg.prepare()  # the rules of PREFECT_API_URL hold for the prefect engine here too
    if mode == "local":
        return None
    if settings is None:
        return _fallback(mode, f"{cfg.URL_ENV} is not set")
    reason = local_only(args, settings.loopback)
    if reason and mode == "server":
        return _fallback(mode, reason)
    from medic.plugins.server.api import FLOW_NAME, PrefectAPI, ServerUnreachable  # httpx: only with a server

    with PrefectAPI(settings) as api:
        try:
            if reason:  # said only when the server answers: else the run here says it is down
                api.health()
                return _fallback(mode, reason)
            deployment = api.deployment(args.playbook)
        except ServerUnreachable:
            if mode == "server":
                raise
            return None  # the run here says the server is down, in its own words (medic.flows.server_check)
        name = f"{FLOW_NAME}/{args.playbook}"
        if deployment is None:
            return _fallback(mode, f"no deployment {name} on {settings.url} (medic deploy creates it)")
        if deployment.get("status") != "READY":
            return _fallback(mode, f"deployment {name} is not served now (no medic serve or medic worker "
                                   f"polls it)")
        parameters = build_parameters(args, deployment.get("parameter_openapi_schema") or {})
        from medic.cli.quick_exit import request
        from medic.cli.remote_follow import Follower

        code = Follower(api, args, name).run(deployment["id"], parameters)
    request()  # the findings are out, the client closed: the console script may leave at once
    return code


def _fallback(mode: str, reason: str) -> int | None:
    if mode == "server":
        raise UsageError(f"--submit server: cannot submit this run: {reason}")
    from medic.plugins.server.settings import URL_ENV

    if os.environ.get(URL_ENV):
        print(f"medic: running here, not on the server: {reason}", file=sys.stderr)
    return None


def local_only(args: argparse.Namespace, loopback: bool) -> str | None:
    """Why this run can only happen in this process, or None."""
    specs = [s.strip() for spec in args.target for s in spec.split(",") if s.strip()]
    if args.playbook.endswith((".yaml", ".yml")) or "/" in args.playbook or Path(args.playbook).is_file():
        return f"the playbook {args.playbook} is a file here"
    for flag, given in (("--check", args.check), ("--limit", args.limit), ("--notify", args.notify),
                        ("--case", getattr(args, "case", None))):  # the case store is on this machine
        if given:
            return f"{flag} applies to runs here only"
    bundles = [s for s in specs if s.startswith("bundle:")]
    if bundles:
        return f"target {bundles[0]} is a file on this machine"
    if loopback:
        return None  # the worker runs on this machine: local and --inventory name the same things
    if not specs:
        return "the playbook's default targets would be the worker's machine (name them with --target)"
    if "local" in specs:
        return "target local would be the worker's machine, not this one"
    if args.inventory:
        return "--inventory is a file on this machine"
    return None


def build_parameters(args: argparse.Namespace, schema: dict[str, Any]) -> dict[str, Any]:
    """The flow run's parameters: the inputs typed by the deployment's schema, then targets and inventory."""
    props = schema.get("properties") or {}
    inputs = {k: v for k, v in props.items() if k not in ("targets", "inventory")}
    out: dict[str, Any] = {}
    for key, text in parse_inputs(args.input).items():
        if key not in inputs:
            raise UsageError(f"playbook {args.playbook}: unknown input {key!r}; this playbook takes: "
                             f"{', '.join(inputs) or 'no inputs'}")
        out[key] = typed(key, text, inputs[key])
    specs = [s.strip() for spec in args.target for s in spec.split(",") if s.strip()]
    if specs:
        out["targets"] = specs
    if args.inventory:
        out["inventory"] = str(Path(args.inventory).expanduser().resolve())
    return out


def typed(key: str, text: str, prop: dict[str, Any]) -> Any:
    kind = SCHEMA_TYPES.get(str(prop.get("type")), "string")
    try:
        value = coerce_value(kind, text, key)
        if kind == "list" and isinstance(prop.get("items"), dict):
            item_kind = SCHEMA_TYPES.get(str(prop["items"].get("type")), "string")
            value = [coerce_value(item_kind, v, f"{key}[{i}]") for i, v in enumerate(value)]
    except ParamError as exc:
        raise UsageError(f"input {exc}") from None
    if prop.get("enum") and value not in prop["enum"]:
        raise UsageError(f"input {key}: got {text!r}, expected one of {', '.join(map(str, prop['enum']))}")
    json.dumps(value)  # what cannot be sent as JSON fails here, not on the server
    return value

