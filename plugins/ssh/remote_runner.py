"""The probe runner sent to a remote ``python3 -`` over stdin (standard library only; Python 3.6 syntax).

medic appends one line, ``main(<payload as a Python string literal>)``, where the payload is JSON::

    {"modules": [[module name, source], ...], "calls": [[probe, params_json], ...], "workers": 8}

``main`` installs the modules (medic.kernel.errors/params/models/probe and the probe modules) in ``sys.modules``
without touching the remote disk, runs every call with ``medic.kernel.probe.run_probe`` (a few at a time: live
probes such as tcp_connect wait on the network) and writes ``MARKER`` then a JSON list of ProbeResult records.
Nothing from the payload reaches a shell: calls are data, and probes run programs from argv lists.
"""

import json
import sys
import types
from typing import Iterator  # noqa: UP035 - runs on the remote's Python

MARKER = "\n\x1emedic-results\x1e"
TOO_OLD = "medic-python-too-old"
STARTED = "\x1emedic-runner-started\n"


def _install(modules: list) -> "Iterator[tuple[str, str]]":
    for name, source in modules:
        parts = name.split(".")
        for i in range(1, len(parts)):
            pkg = ".".join(parts[:i])
            if pkg not in sys.modules:
                mod = types.ModuleType(pkg)
                mod.__path__ = []
                sys.modules[pkg] = mod
                if i > 1:
                    setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], mod)
        mod = types.ModuleType(name)
        mod.__file__ = "<medic:" + name + ">"
        sys.modules[name] = mod
        try:
            exec(compile(source, mod.__file__, "exec"), mod.__dict__)  # noqa: S102 - medic's own probe code
        except Exception as exc:  # a probe module needing a package the host lacks: its calls report it
            del sys.modules[name]
            yield name, f"{type(exc).__name__}: {exc}"
            continue
        setattr(sys.modules[".".join(parts[:-1])], parts[-1], mod)


def _specs(names: list) -> dict:
    spec_type = sys.modules["medic.kernel.probe"].ProbeSpec
    specs = {}
    for name in names:
        module = sys.modules.get(name)
        for obj in vars(module).values() if module else ():
            spec = getattr(obj, "spec", None)
            if isinstance(spec, spec_type):
                specs[spec.name] = spec
    return specs


def main(payload_text: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - the remote Python may be older than medic's
        sys.stdout.write(TOO_OLD + " " + sys.version.split()[0] + "\n")
        sys.exit(3)
    from concurrent.futures import ThreadPoolExecutor

    sys.stdout.write(STARTED)  # medic tells "the host hangs after login" from "the probes are slow" by it
    sys.stdout.flush()
    _own_process_group()
    _exit_when_medic_is_gone(kill_group=True)
    payload = json.loads(payload_text)
    failed = dict(_install(payload["modules"]))
    probe_mod = sys.modules["medic.kernel.probe"]
    models = sys.modules["medic.kernel.models"]
    specs = _specs([name for name, _ in payload["modules"]])

    def one(call: list) -> dict:
        probe, params_json = call
        spec = specs.get(probe)
        if spec is None:
            why = "; ".join(f"{k}: {v}" for k, v in failed.items()) or "not shipped to the runner"
            return {"probe": probe, "params": json.loads(params_json), "ok": False, "data": None,
                    "error": f"probe {probe} cannot run on this host ({why})",
                    "unavailable": False, "duration_s": 0.0}
        return probe_mod.run_probe(spec, models.ProbeCall(probe, params_json)).to_dict()

    with ThreadPoolExecutor(max_workers=max(1, int(payload.get("workers", 8)))) as pool:
        results = list(pool.map(one, payload["calls"]))
    sys.stdout.write(MARKER + json.dumps(results, default=str))
    sys.stdout.flush()


def _own_process_group() -> None:
    """Lead a process group of our own (the probes' programs join it), so that ending it kills nothing else;
    SIGTERM (medic's SSH "signal" request when a collection times out, relayed by sudo) kills the group."""
    import contextlib
    import os
    import signal

    with contextlib.suppress(OSError):  # fails for a session leader (sshd ran us directly): it leads its group
        os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(os.getpgid(0), signal.SIGKILL))


def _exit_when_medic_is_gone(every: float = 1.0, kill_group: bool = False) -> None:
    """sshd does not signal a command whose client vanished (medic killed, or the collection timed out and
    medic closed the channel): notice it by a failing write to stderr, or by sshd's session process (our
    parent) being gone, and exit, so that commands this call started (tied to it,
    medic.plugins.change.safety.tiedproc; or, with ``kill_group``, our process group) die too."""
    import os
    import signal
    import threading
    import time

    parent = os.getppid()

    def gone() -> None:
        if kill_group:
            os.killpg(os.getpgid(0), signal.SIGKILL)
        os._exit(70)

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.write(2, b"\n")
            except OSError:
                gone()
            if os.getppid() != parent:
                gone()

    threading.Thread(target=watch, name="medic-watchdog", daemon=True).start()


def call_main(payload_text: str) -> None:
    """Run one medic function on this host (change steps: backups, file edits, restores).

    Payload: ``{"modules": [[name, source], ...], "function": "module:name", "kwargs": {...}}``. Writes
    ``MARKER`` then ``{"ok": true, "value": ...}`` or ``{"ok": false, "type": ..., "bases": [...],
    "message": ...}``.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - the remote Python may be older than medic's
        sys.stdout.write(TOO_OLD + " " + sys.version.split()[0] + "\n")
        sys.exit(3)
    import importlib

    _exit_when_medic_is_gone()
    payload = json.loads(payload_text)
    failed = dict(_install(payload["modules"]))  # a module needing a library the host lacks fails when used
    module, _, name = payload["function"].partition(":")
    try:
        if module in failed:
            raise ImportError(module + ": " + failed[module])
        value = getattr(importlib.import_module(module), name)(**payload["kwargs"])
        out = {"ok": True, "value": value}
    except Exception as exc:  # reported to medic, which raises its own error naming this host
        out = {"ok": False, "type": type(exc).__name__, "bases": [c.__name__ for c in type(exc).__mro__],
               "message": str(exc), "filename": getattr(exc, "filename", None)}
    sys.stdout.write(MARKER + json.dumps(out, default=str))
    sys.stdout.flush()
