"""Built-in probes. Each module holds probes of one area; every probe is a ``@probe``-decorated function.

Probe modules import only the standard library, psutil (optional: a /proc fallback keeps them working on a
remote Linux host without it), ``medic.kernel`` and each other, so the same code can be shipped to a remote Python
and run inside the endpoint agent. They are declared in ``pyproject.toml`` under the entry-point group
``medic.probes`` and found through :mod:`medic.kernel.probes`, like third-party probe modules; nothing here
registers them, so this package is pure probe code.
"""
