"""Probe commands and their parsers on recorded output (tests/probes/fixtures/<probe>/<case>.json, written by
tests/probes/capture.py), and the plain-command fallback's parsers against the local probes on this machine."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from medic.kernel.closure import closure
from medic.kernel.models import ProbeCall
from medic.kernel.probe import Command, run_probe
from medic.kernel.probes import by_name, discover

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("*/*.json"))
# probes whose command cannot run on this machine, so their fixtures are written by hand in the tool's format
NOT_RUNNABLE_HERE = {"systemd_units": "this machine's init is not systemd (no /run/systemd/system)"}


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def resolve(ref: str) -> Command:
    module, _, name = ref.partition(":")
    command = getattr(importlib.import_module(module), name)
    assert isinstance(command, Command), ref
    return command


def declared_commands() -> dict[str, Command]:
    """Every Command the shipped probe code defines, by MODULE:NAME where it is defined (closure() orders a
    module before those importing it, so the first name seen is the defining one)."""
    found: dict[int, tuple[str, Command]] = {}
    for module_name in closure(discover().modules()):
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if isinstance(obj, Command):
                found.setdefault(id(obj), (f"{module_name}:{name}", obj))
    return dict(found.values())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_parser_gives_the_recorded_data(path: Path) -> None:
    doc = load(path)
    command = resolve(doc["command"])
    assert doc["probe"] == path.parent.name and doc["probe"] in by_name()
    assert command.argv(doc["params"]) == doc["argv"]
    assert json.loads(json.dumps(command.parse(doc["output"], doc["params"]))) == doc["expected"]


def test_every_command_has_fixtures_and_every_probe_a_real_capture() -> None:
    docs = [load(p) for p in FIXTURES]
    assert set(declared_commands()) <= {d["command"] for d in docs}
    for probe in {d["probe"] for d in docs} - set(NOT_RUNNABLE_HERE):
        assert any(d["source"].startswith("captured") for d in docs if d["probe"] == probe), probe


def test_a_probes_fallback_command_is_one_of_its_fixtures() -> None:
    by_command = {id(resolve(d["command"])): d["probe"] for d in map(load, FIXTURES)}
    with_command = {name: spec.command for name, spec in by_name().items() if spec.command is not None}
    assert {"cpu_load", "memory", "uptime", "os_release", "disk_usage"} <= set(with_command)
    for name, command in with_command.items():
        assert by_command.get(id(command)) == name


# what must agree between a probe run here and its command's output parsed (values that move between the two
# runs, such as free memory or the load, are compared by shape only)
STABLE = {"os_release": None, "memory": ("total_bytes", "swap_total_bytes"), "cpu_load": ("cpus",),
          "uptime": (), "disk_usage": ("mountpoint", "total_bytes", "inodes_total")}


@pytest.mark.parametrize("name", sorted(STABLE))
def test_fallback_parser_agrees_with_the_local_probe_here(name: str) -> None:
    spec = by_name()[name]
    params = {"paths": ["/"]} if name == "disk_usage" else {}
    assert spec.command is not None
    proc = subprocess.run(spec.command.argv(params), capture_output=True, text=True, timeout=30, check=True,
                          env={**os.environ, "LC_ALL": "C"})
    fallback = spec.command.parse(proc.stdout, params)
    local = run_probe(spec, ProbeCall.make(name, **params))
    assert local.ok, local.error
    rows = list(zip(fallback, local.data, strict=True)) if isinstance(fallback, list) else [(fallback, local.data)]
    for theirs, ours in rows:
        assert set(theirs) == set(ours)
        keys = STABLE[name]
        if keys is None:
            assert theirs == ours
        else:
            assert {k: theirs[k] for k in keys} == {k: ours[k] for k in keys}
    if name == "uptime":
        assert abs(fallback["boot_time"] - local.data["boot_time"]) < 2.0
