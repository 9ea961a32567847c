"""Prefect's settings for a warm run: the forkserver's own when nothing they are read from has changed.

A cold run (``python -m prefect.engine``) reads Prefect's settings when it imports Prefect: the ``PREFECT_*``
environment variables, the active profile in the profiles file, and ``.env``, ``prefect.toml`` and
``pyproject.toml`` in its working directory. A warm run is forked from a process that did the same when it started
(flows.fork_server), and used to build them again (``Settings()``: about fifty pydantic models, 0.05 s of CPU on an
idle machine, 0.4-0.45 s of a run's start at load 30; bench/README-fast.md). ``for_run()`` hands back the
forkserver's settings when every one of those sources is the same for the run as it was when they were built, and
builds them again otherwise: a worker with another server, a changed profile, or a configuration file in the run's
directory gets exactly what a cold run would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CWD_FILES = (".env", "prefect.toml")  # read by Prefect's settings from the working directory, with pyproject.toml


def sources(directory: str, profiles_path: Any) -> tuple[Any, ...]:
    """What Prefect's settings read besides the environment, for a process in ``directory``."""
    files = tuple(_stamp(Path(directory, name)) for name in CWD_FILES)
    profiles = _stamp(Path(str(profiles_path))) if profiles_path else None
    return (files, _tool_prefect(Path(directory, "pyproject.toml")), profiles)


def prefect_env() -> dict[str, str]:
    """This process's ``PREFECT_*`` variables (``PREFECT__*`` are per-run values, not settings)."""
    return {k.upper(): v for k, v in os.environ.items()
            if k.upper().startswith("PREFECT_") and not k.startswith("PREFECT__")}


def as_env(settings: Any) -> dict[str, str]:
    """Every set value of ``settings`` as Prefect writes it into a run's environment (a worker gives each run its
    own settings that way: ``False`` where the variable said ``false``), under its names and aliases."""
    return {**settings.to_environment_variables(), **settings.to_environment_variables(include_aliases=True)}


def _stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def _tool_prefect(path: Path) -> str | None:
    """The ``[tool.prefect]`` table of a pyproject.toml (the only part Prefect reads), as text; None if none."""
    import json
    import tomllib

    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("prefect")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # unreadable or not TOML: never equal to anything, so built anew
        return f"unreadable: {exc}"
    return None if table is None else json.dumps(table, sort_keys=True, default=str)


def _built() -> tuple[tuple[Any, ...], set[str], dict[str, str]]:
    """What the settings Prefect built at its import in this process (the forkserver) were read from, and them."""
    from prefect.context import get_settings_context

    settings = get_settings_context().settings
    return sources(os.getcwd(), settings.profiles_path), set(prefect_env()), as_env(settings)


# at import: in the forkserver, just after Prefect's own import read its settings
BUILT_FROM, BUILT_KEYS, BUILT_ENV = _built()
BUILT_IN = os.getpid()  # only a process forked after this import may trust them (not one that imported it)


def unchanged(settings: Any) -> bool:
    """Whether this process (a run forked from the forkserver) would read the same settings as it did: the same
    files, each of the forkserver's variables still set, and every variable's value the one it has there."""
    env = prefect_env()
    return (os.getpid() != BUILT_IN and set(env) >= BUILT_KEYS
            and all(same(BUILT_ENV.get(k), v) for k, v in env.items())
            and sources(os.getcwd(), settings.profiles_path) == BUILT_FROM)


def same(built: str | None, text: str) -> bool:
    """Whether a variable's text gives the value Prefect wrote as ``built``: equal, or the same boolean or number
    spelled otherwise (``true``/``True``, ``1``/``1.0``). Anything else counts as a change."""
    if built is None or built == text:
        return built == text
    if {built.lower(), text.lower()} <= {"true", "false"}:
        return built.lower() == text.lower()
    try:
        return float(built) == float(text)
    except ValueError:
        return False


def for_run() -> Any:
    """The ``SettingsContext`` a run enters: the current one when nothing it was read from changed, else one built
    anew from the run's environment and working directory (call after both are set)."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings

    current = get_settings_context()
    return SettingsContext(profile=current.profile,
                           settings=current.settings if unchanged(current.settings) else Settings())
