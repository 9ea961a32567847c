"""The plugin index: what each installed plugin provides, cached so a command imports only the plugins it uses.

Building it means importing every plugin (what medic did on every command before); the index is written to
``$XDG_CACHE_HOME/medic/`` (default ``~/.cache/medic/``) and read back while it is still true: the same Python,
the same ``sys.path`` entries with the same modification times (installing or removing a distribution changes its
directory's), the same ``MEDIC_DISABLE_PLUGINS``, and every module file imported while it was built (medic's own,
the plugins', their dependencies) unchanged in size and modification time. Anything else, or a missing or
unreadable file, means building it again. The index only says which declared entry points provide which names; the
plugins are still found through their entry points when it is built, the way pytest and pluggy find them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

FORMAT = 1
_STDLIB = os.path.dirname(os.__file__)
KEEP = 20  # index files kept per cache directory: one per interpreter and import path (venvs, checkouts)


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    # one file per interpreter and import path: checkouts sharing a home, `medic` and `python -m medic.cli.main`
    # (whose first sys.path entries differ) do not overwrite each other's index
    # (two zlib checksums, not hashlib: its OpenSSL start-up cost ~2 ms of every command's)
    text = "\0".join([sys.prefix, sys.executable, *sys.path]).encode()
    tag = f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}"
    return Path(base) / "medic" / f"plugins-{tag}.json"


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def key(blocked: set[str]) -> dict[str, Any]:
    """What the index was built under: Python, the import path and its directories' times, the blocked plugins."""
    return {"format": FORMAT, "python": sys.version, "path": [[p, _mtime(p)] for p in sys.path],
            "disabled": sorted(blocked)}


def _stamp(path: str) -> list[Any] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [path, st.st_mtime_ns, st.st_size]


def module_files() -> list[list[Any]]:
    """Size and time of every imported module file outside the standard library."""
    files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    keep = (f for f in files if isinstance(f, str) and (not f.startswith(_STDLIB) or "-packages" in f))
    return [s for s in map(_stamp, sorted(keep)) if s is not None]


def read(expected: dict[str, Any]) -> dict[str, Any] | None:
    """The index, or None when there is none or it no longer describes what is installed."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != expected:
        return None
    files = data.get("files")
    if not isinstance(files, list) or any(_stamp(path) != [path, mtime, size] for path, mtime, size in files):
        return None
    return data


def write(expected: dict[str, Any], content: dict[str, Any]) -> None:
    """Save the index atomically; a cache that cannot be written is simply not used."""
    import tempfile  # here: only the run that rebuilds the index pays for it

    path = cache_path()
    data = {**content, "key": expected, "files": module_files()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".plugins-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except OSError:
        return
    prune(path.parent)


def prune(directory: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently written indexes: every new venv, checkout or upgrade writes one
    of its own, and nothing else would ever remove those nobody uses any more (a removed one is only rebuilt)."""
    import contextlib  # here, as tempfile: only a rebuild pays for it

    try:
        found = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(directory)
                 if e.name.startswith("plugins-") and e.name.endswith(".json")]
    except OSError:
        return
    for _mtime_ns, stale in sorted(found, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


def content(pm: Any, origins: dict[str, Any], values: dict[str, str], log: list[tuple[str, str, str, bool]],
            catalog: Any, commands: dict[str, list[dict[str, Any]]] | None, registry: Any = None
            ) -> dict[str, Any] | None:
    """The index of a load of every plugin (``pm`` a pluggy manager, duck-typed: the kernel imports no pluggy;
    ``log`` each registration as plugin, kind, name, override; ``registry`` what they registered, for the sites of
    medic's own plugins' names, :mod:`medic.kernel.pluginsites`); None when the plugins' commands are unknown."""
    from medic.kernel.pluginsites import plugin_sites

    if commands is None:
        return None
    plugins = []
    for name, value in values.items():
        provides: dict[str, list[list[Any]]] = {}
        for plugin, kind, obj_name, override in log:
            if plugin == name:
                provides.setdefault(kind, []).append([obj_name, override])
        hooks = sorted(caller.name for caller in pm.get_hookcallers(pm.get_plugin(name)) or ())
        plugins.append({"name": name, "value": value, "distribution": origins[name].distribution,
                        "version": origins[name].version, "hooks": hooks, "provides": provides,
                        "commands": commands.get(name, []), "sites": {} if registry is None else
                        plugin_sites(registry, name, origins[name].distribution, value, provides)})
    modules = [{"plugin": s.plugin, "module": s.module, "distribution": s.distribution, "version": s.version,
                "probes": sorted(n for n, src in catalog.sources.items() if src == s)}
               for s in dict.fromkeys(catalog.sources.values())]
    return {"plugins": plugins, "probe_modules": modules}


class _Recorder:
    """Stands for ``medic``'s sub-parsers while the index is built: records each command's name, aliases and
    help (what ``medic --help`` lists) and hands the plugin a throwaway parser to fill."""

    def __init__(self) -> None:
        self._sub = argparse.ArgumentParser(add_help=False).add_subparsers()
        self.seen: list[dict[str, Any]] = []

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        self.seen.append({"name": name, "kwargs": {k: kwargs[k] for k in ("help", "aliases") if k in kwargs}})
        return self._sub.add_parser(name, **kwargs)


def commands_of(impls: list[tuple[Any, Any]]) -> dict[str, list[dict[str, Any]]] | None:
    """Each plugin's commands from its ``register_commands`` (implementation, origin pairs); None if one fails
    (medic's command line then reports it with the plugin's name)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for impl, origin in impls:
        recorder = _Recorder()
        try:
            impl.function(recorder)
        except Exception:
            return None
        out[origin.plugin] = recorder.seen
    return out
