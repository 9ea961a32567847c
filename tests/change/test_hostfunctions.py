"""Host calls name functions of a typed registry; a remote host finds each by its module and name."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

from medic.plugins.change import actions
from medic.plugins.change.safety import backup_ops
from medic.plugins.change.safety.hostfunctions import host_function, host_function_named
from medic.plugins.change.safety.hosts import LOCAL_HOST

CHANGE_SAFETY_CALLS = ("backup.create", "backup.check", "backup.restore", "backup.compare",
                       "backup.remove_staging", "undo.run", "files.remove_temps", "action.describe", "action.apply")


@host_function("test.echo")
def echo(value: Any) -> Any:
    return {"echo": value}


def test_every_host_call_of_change_safety_is_found_by_module_and_name() -> None:
    for name in CHANGE_SAFETY_CALLS:
        fn = host_function_named(name)
        assert fn.__module__ in (backup_ops.__name__, actions.__name__)
        assert getattr(importlib.import_module(fn.__module__), fn.__name__) is fn  # what the remote runner does


def test_the_modules_that_call_host_functions_register_them() -> None:
    code = ("import medic.plugins.change.safety.catalogue, medic.plugins.change.safety.rollback, "
            "medic.plugins.change.kinds\n"
            "from medic.plugins.change.safety.hostfunctions import host_function_named\n"
            f"print([host_function_named(n).__name__ for n in {CHANGE_SAFETY_CALLS!r}])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("'")[1::2] == ["create", "check", "restore", "compare", "remove_staging", "run_undo",
                                           "remove_temps", "describe", "apply"]


def test_this_machine_calls_the_registered_function() -> None:
    assert LOCAL_HOST.call("test.echo", value=[1, "a"]) == {"echo": [1, "a"]}


def test_unknown_nested_and_twice_registered_functions_are_refused() -> None:
    with pytest.raises(KeyError, match=r"no host function 'test\.missing'.*test\.echo"):
        host_function_named("test.missing")

    def nested() -> None:
        return None

    with pytest.raises(TypeError, match="must be defined at the top of its module"):
        host_function("test.nested")(nested)
    with pytest.raises(ValueError, match="registered twice"):
        host_function("test.echo")(backup_ops.run_undo)
    assert host_function("test.echo")(echo) is echo  # the same function again (a module imported twice) is fine
