"""``medic run --engine inline``: the log scans the same command made last time, started before anything else.

A user re-runs the same command; most of a short run's time is medic starting (imports, plugin index, playbook,
engine: about 0.1 s), during which the log probe's grep could already read the file on the idle core. After an
inline run this module writes its *plan*: the whole-file log scans its local target's steps asked for (path,
pattern, case), as JSON in ``$XDG_CACHE_HOME/medic/scans/``, keyed by the command line and working directory. A
command line with an option that carries a user's value (``--input``, ``--notify``...) is not planned, so a key
never holds a secret. The next identical command starts those scans first thing (:mod:`medic.probes.logearly`,
before medic's own modules are imported), and the probe takes them over only if they are exactly the scan it
would start, on the file as it was (else it scans as usual, and the early ones are killed at exit). A stale or
edited plan can only waste a scan: it names files and patterns, never a program or an option. Only playbooks of
up to MAX_STEPS steps are planned (in a longer run the start-up is a small part).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medic.core.playbook import Playbook
    from medic.core.target import Target
    from medic.kernel.registry import Registry

FORMAT = 1
MAX_STEPS = 50
_plan: tuple[str, list[Any], list[dict[str, Any]]] | None = None  # this command's (entry, key, scans read)


def begin(words: Sequence[str]) -> None:
    """Start the scans an earlier run of exactly ``medic WORDS`` (here) planned; note the plan for :func:`remember`."""
    global _plan
    _plan = None
    if not inline_run(words):
        return
    try:
        key: list[Any] = [FORMAT, os.getcwd(), list(words)]
    except OSError:  # the working directory is gone: the run says so itself
        return
    where = json.dumps(key).encode("utf-8", "surrogateescape")
    entry = os.path.join(cache_dir(), f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}.json")
    scans = _read(entry, key)
    _plan = (entry, key, scans)
    if scans:
        from medic.probes import logearly

        for scan in scans[:_budget()]:
            logearly.start(scan["path"], scan["pattern"], scan["ignore_case"])


# The options a planned command may have (with their values): none that carries a user's value (--input,
# --notify, an inventory), so the plan's key, the command line, never holds a secret.
_FLAGS = ("--json", "--check", "--verbose", "-v")
_VALUED = {"--engine": None, "--report": None, "--case": None, "--target": "local", "-t": "local"}


def inline_run(words: Sequence[str]) -> bool:
    """``run PLAYBOOK`` with the inline engine (``--engine inline`` or MEDIC_ENGINE) and only the options above."""
    if len(words) < 2 or words[0] != "run" or words[1].startswith("-"):
        return False
    engine = os.environ.get("MEDIC_ENGINE", "prefect")
    rest = list(words[2:])
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if word in _FLAGS:
            continue
        if name not in _VALUED or not (eq or rest):
            return False
        value = value if eq else rest.pop(0)
        if _VALUED[name] not in (None, value):
            return False
        engine = value if name == "--engine" else engine
    return engine == "inline"


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "medic", "scans")


def _budget() -> int:
    """Scans started early at most: one per core but the one medic starts on."""
    try:
        return max(1, len(os.sched_getaffinity(0)) - 1)
    except AttributeError:  # not Linux
        return 1


def _read(entry: str, key: list[Any]) -> list[dict[str, Any]]:
    try:
        with open(entry, encoding="utf-8") as fh:
            cached = json.load(fh)
        if cached["key"] != key:
            return []
        return [s for s in cached["scans"] if isinstance(s.get("path"), str) and isinstance(s.get("pattern"), str)
                and isinstance(s.get("ignore_case"), bool)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none, torn or not ours: no early scan
        return []


def remember(registry: Registry, playbook: Playbook, targets: Sequence[Target], inputs: dict[str, Any]) -> None:
    """Write this command's plan when it differs from the one read at its start (after an inline run)."""
    if _plan is None:  # not started by main() (an in-process caller): no command line to key it by
        return
    entry, key, before = _plan
    scans = planned(registry, playbook, targets, inputs)
    if scans == before:
        return
    tmp = f"{entry}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(entry), mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump({"key": key, "scans": scans}, out)
        os.replace(tmp, entry)  # readers see the old plan or the new one
    except OSError:
        return


def planned(registry: Registry, playbook: Playbook, targets: Sequence[Target], inputs: dict[str, Any]
            ) -> list[dict[str, Any]]:
    """The whole-file scans of portable patterns the local target's steps ask for before the run starts."""
    from medic.core.engine import static_probe_calls

    local = [t for t in targets if t.kind == "local"]
    if len(targets) != 1 or not local or sum(len(s.walk()) for s in playbook.steps) > MAX_STEPS:
        return []
    spec = getattr(local[0], "probes", {}).get("log_scan")
    scope = {"inputs": dict(playbook.bind_inputs(inputs)), "target": local[0].describe(), "steps": {}}
    calls = [c for c in static_probe_calls(playbook.steps, registry, scope, timed=False)
             if c.probe == "log_scan" and not c.become]
    if not calls or spec is None:  # a run that scans no log imports nothing more
        return []
    from medic.probes import logearly
    from medic.probes.logengines import grep_dialect

    scans = []
    for call in calls:
        try:
            params = spec.bind(call.params)
        except Exception:  # noqa: S112 - the step reports bad parameters; nothing to start early
            continue
        if logearly.eligible(params) and grep_dialect(params["pattern"]) == "-E":
            scans.append({"path": params["path"], "pattern": params["pattern"],
                          "ignore_case": bool(params["ignore_case"])})
    return scans
