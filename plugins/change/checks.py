"""Checks written for verifying changes: a configuration key holds a value, a file contains a pattern, a command
succeeds."""

from __future__ import annotations

import json
import re
from typing import Any

from medic.core.check import ProbeData, check
from medic.kernel.models import Outcome, ProbeCall, errored, failed, passed
from medic.kernel.params import Param
from medic.plugins.change import configvalue, fileedit
from medic.plugins.change.configvalue import EditError
from medic.probes.config import SENSITIVE_KEY


@check(
    "change.config_key",
    title="Configuration key holds a value",
    category="configuration",
    severity="high",
    needs=lambda p: {"file": ProbeCall.make("file_tail", path=p["path"], lines=1_000_000)},
    params=[
        Param("path", "string", description="configuration file (INI, YAML, JSON or key=value)"),
        Param("key", "string", description="the key (dotted for YAML/JSON: a.b.c)"),
        Param("value", "any", description="the value it must hold, compared as the file's parsed value"),
        Param("section", "string", "", "INI section (empty for none)"),
        Param("format", "string", "auto", "file format", choices=fileedit.FORMATS),
        Param("type", "string", "auto", "the value's type (auto: the type of the value found)",
              choices=configvalue.TYPES),
    ],
    remediation="The file does not hold the value the change set: look at the change's diff and at who else "
    "writes the file.",
    description="fail: the file does not parse, has no such key, or the key's parsed value differs from `value` "
    "(`8` and `\"8\"` differ when the file holds an integer: the value is read as the type found or `type:`).",
)
def config_key(data: ProbeData, p: dict[str, Any]) -> Outcome:
    d, path, key = data["file"], p["path"], p["key"]
    if d["truncated"]:
        return errored(f"{path}: too large to read whole ({d['size_bytes']} bytes); cannot verify {key}", subject=path)
    where = f"{key} in [{p['section']}]" if p["section"] else key
    try:
        found, got = fileedit.get_key("\n".join(d["lines"]) + "\n", p["format"], key, p["section"] or None, path)
    except EditError as exc:
        return failed(f"{path}: cannot read {where}: {exc}", subject=path)
    if not found:
        return failed(f"{path}: no key {where}", subject=path, key=key)
    try:
        wanted = configvalue.typed(p["value"], got, p["type"], f"{path}: {where}")
        same = wanted == got and configvalue.kind_of(wanted) == configvalue.kind_of(got)
    except EditError:  # the value asked is not even of the type found
        wanted, same = p["value"], False
    if SENSITIVE_KEY.search(key.rsplit(".", 1)[-1]):  # a secret: never in a finding
        return (passed if same else failed)(
            f"{path}: {where} (secret) {'holds' if same else 'does not hold'} the value asked", subject=path, key=key
        )
    if same:
        return passed(f"{path}: {where} = {_plain(got)!r}", subject=path, key=key, value=_plain(got))
    found_text = _plain(got)
    return failed(f"{path}: {where} is {found_text!r}, expected {wanted!r}", subject=path, key=key,
                  found=found_text, wanted=wanted)


def _plain(value: Any) -> Any:
    """A parsed value as JSON data (ruamel's scalar and mapping types are subclasses of them)."""
    return json.loads(json.dumps(value, default=str))


@check(
    "change.file_contains",
    title="File contains",
    category="configuration",
    severity="high",
    needs=lambda p: {"file": ProbeCall.make("file_tail", path=p["path"], lines=100000)},
    params=[
        Param("path", "string", description="text file"),
        Param("pattern", "string", description="regular expression searched line by line"),
        Param("present", "bool", True, "false: the pattern must not appear"),
    ],
    remediation="The file does not hold the expected setting: look at the diff of the change.",
    description="fail: the pattern is missing (or present when `present: false`).",
)
def file_contains(data: ProbeData, p: dict[str, Any]) -> Outcome:
    lines = data["file"]["lines"]
    hit = next((line for line in lines if re.search(p["pattern"], line)), None)
    if (hit is not None) == p["present"]:
        return passed(
            f"{p['path']}: {'has' if p['present'] else 'has no'} {p['pattern']!r}",
            subject=p["path"],
            line=hit,
        )
    return failed(
        f"{p['path']}: {'no line matches' if p['present'] else 'a line matches'} {p['pattern']!r}",
        subject=p["path"],
        line=hit,
    )


@check(
    "change.command_succeeds",
    title="Command succeeds",
    category="software",
    severity="high",
    needs=lambda p: {"out": ProbeCall.make("command_output", argv=p["argv"], timeout=p["timeout"])},
    params=[
        Param("argv", "list", description="program and arguments (no shell)", items="string"),
        Param("timeout", "float", 30.0, "seconds"),
    ],
    remediation="The service rejects its configuration or is not healthy; see the command's output.",
    description="fail: the command is missing, times out or exits non-zero (a config test, a health probe).",
)
def command_succeeds(data: ProbeData, p: dict[str, Any]) -> Outcome:
    out = data["out"]
    name = " ".join(p["argv"])
    if out["exit_code"] == 0:
        return passed(f"{name}: exit 0", subject=p["argv"][0])
    why = out["error"] or f"exit {out['exit_code']}"
    return failed(
        f"{name}: {why}", subject=p["argv"][0], stderr=out["stderr"][-500:], stdout=out["stdout"][-500:]
    )
