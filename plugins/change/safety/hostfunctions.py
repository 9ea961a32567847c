"""The functions change steps run on the machine that holds a resource, registered by name.

A module marks such a function with ``@host_function("backup.create")``; a host call names it
(``host.call("backup.create", ...)``) and every host finds the callable here: this machine calls it, an SSH host
(``medic.plugins.ssh.hostcall``) ships the module that defines it (``fn.__module__``) with the medic modules
that module imports, and calls it by its name there. Only registered functions can run on a host, and a
function is registered by importing its module.

Standard library only: this module runs on remote hosts too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

HostFunction = Callable[..., Any]
F = TypeVar("F", bound=HostFunction)

_REGISTRY: dict[str, HostFunction] = {}


def host_function(name: str) -> Callable[[F], F]:
    """Register a module-level function (a remote host finds it by its module and name) under ``name``."""

    def register(fn: F) -> F:
        if fn.__qualname__ != fn.__name__:
            raise TypeError(f"host function {name!r} must be defined at the top of its module: "
                            f"{fn.__module__}.{fn.__qualname__}")
        known = _REGISTRY.get(name)
        if known is not None and (known.__module__, known.__name__) != (fn.__module__, fn.__name__):
            raise ValueError(f"host function {name!r} is registered twice: {known.__module__}.{known.__name__} "
                             f"and {fn.__module__}.{fn.__name__}")
        _REGISTRY[name] = fn
        return fn

    return register


def host_function_named(name: str) -> HostFunction:
    """The function registered as ``name``; KeyError naming the known ones when there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no host function {name!r} is registered (known: {', '.join(sorted(_REGISTRY))}); "
                       f"import the module that defines it") from None

