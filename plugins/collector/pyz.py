"""The one-file agent, ``medic-agent.pyz``, built into a cache directory and served at ``GET /agent/medic-agent.pyz``.

Built with the standard library's ``zipapp`` rather than shiv or pex: what the agent needs is fixed and small
(medic.kernel, medic.agent, medic.probes, PyYAML's pure-Python package, psutil), so no resolver is needed, and
the archive stays reproducible from this installation alone. psutil's compiled module cannot be imported from a
zip, so the archive carries psutil's abi3 wheel contents for Linux x86_64 and aarch64 (``plat/<machine>/``), and its
``__main__`` extracts once, like shiv does, into ``$XDG_CACHE_HOME/medic-agent/<archive hash>/`` (or
``$MEDIC_AGENT_CACHE``) and runs ``medic.agent.cli`` from there. abi3 means one psutil for every CPython >= 3.9.
The psutil wheels come from ``wheels`` (a directory holding them) or ``pip download`` into the cache.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import zipapp
import zipfile
from pathlib import Path

import yaml
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

import medic.agent
import medic.kernel
import medic.probes
from medic.plugins.collector.problems import Problem

MACHINES = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}
SKIP = {"__pycache__"}
PYZ_NAME = "medic-agent.pyz"

BOOTSTRAP = '''"""medic-agent as one file: extract once into a private cache, then run the agent (Python >= 3.9).

Every start hashes the whole archive (0.3 ms for its 0.5 MiB) so that its extraction is named by its content: a
changed archive never runs another's code. Only the first start of an archive imports what extracting needs
(shutil, tempfile, zipfile): a restarted agent (after a kill, or the one line run again) does not pay for them."""
import hashlib, os, sys


def _target():
    archive = os.path.dirname(os.path.abspath(__file__))
    with open(archive, "rb") as handle:
        key = hashlib.sha256(handle.read()).hexdigest()[:16]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    base = os.environ.get("MEDIC_AGENT_CACHE") or os.path.join(cache, "medic-agent")
    name = os.uname().machine.lower()  # what platform.machine() answers on Linux, without importing platform
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)
    target = os.path.join(base, key)
    if not os.path.isdir(target):
        import shutil, tempfile, zipfile
        os.makedirs(base, mode=0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=base, prefix=".extract-")
        with zipfile.ZipFile(archive) as pyz:  # every name was written by medic's pyz builder: no ".." in them
            pyz.extractall(tmp, [n for n in pyz.namelist() if n.startswith("lib/") or n.startswith("plat/")])
        try:
            os.rename(tmp, target)
        except OSError:  # another run extracted it first
            shutil.rmtree(tmp, ignore_errors=True)
    return target, machine


target, machine = _target()
if not os.path.isdir(os.path.join(target, "plat", machine)):
    sys.exit("medic-agent.pyz: no psutil for this machine (%s); install the medic-agent wheel instead" % machine)
sys.path[:0] = [os.path.join(target, "lib"), os.path.join(target, "plat", machine)]
from medic.agent.cli import entry  # noqa: E402

entry()
'''


def _copy_package(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest, ignore=lambda _dir, names: [n for n in names if n in SKIP or n.endswith(".pyc")])


def psutil_wheels(cache_dir: Path, wheels: Path | None = None) -> dict[str, Path]:
    """machine -> psutil abi3 wheel, from ``wheels`` or downloaded with pip into ``cache_dir/wheels``."""
    found: dict[str, Path] = {}
    store = cache_dir / "wheels"
    for machine, platform_tag in MACHINES.items():
        pattern = f"psutil-*-abi3-*{machine}*.whl"
        candidates = sorted((wheels or store).glob(pattern)) if (wheels or store).is_dir() else []
        if not candidates and wheels is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            "--platform", platform_tag, "--python-version", "3.9", "--implementation", "cp",
                            "--abi", "abi3", "-d", str(store), "psutil>=5.9"], check=True, timeout=600)
            candidates = sorted(store.glob(pattern))
        if not candidates:
            raise FileNotFoundError(f"no psutil abi3 wheel for {machine} in {wheels or store}")
        found[machine] = candidates[-1]
    return found


def _stage(stage: Path, wheels: dict[str, Path]) -> None:
    lib = stage / "lib"
    (lib / "medic").mkdir(parents=True)
    (lib / "medic" / "__init__.py").write_text('"""medic-agent, unpacked from medic-agent.pyz."""\n')
    for package in (medic.kernel, medic.agent, medic.probes):
        _copy_package(Path(package.__path__[0]), lib / "medic" / package.__name__.rsplit(".", 1)[1])
    _copy_package(Path(yaml.__file__).parent, lib / "yaml")
    for compiled in (lib / "yaml").glob("_yaml*.so"):  # libyaml's binding is per Python version; PyYAML falls back
        compiled.unlink()
    dist = importlib.metadata.distribution("medic-agent")
    info = lib / f"medic_agent-{dist.version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: medic-agent\nVersion: {dist.version}\n")
    (info / "entry_points.txt").write_text(dist.read_text("entry_points.txt") or "")  # the probe modules
    for machine, wheel in wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.startswith("psutil/")]
            archive.extractall(stage / "plat" / machine, names)
    (stage / "__main__.py").write_text(BOOTSTRAP)


def _key(wheels: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for package in (medic.kernel, medic.agent, medic.probes):
        root = Path(package.__path__[0])
        for file in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    digest.update(" ".join(sorted(w.name for w in wheels.values())).encode())
    digest.update(BOOTSTRAP.encode())  # a new bootstrap is a new archive too
    return digest.hexdigest()


def build_agent_pyz(cache_dir: Path, wheels: Path | None = None) -> Path:
    """``cache_dir/medic-agent.pyz``, rebuilt only when the agent's sources or the psutil wheels changed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    found = psutil_wheels(cache_dir, wheels)
    target, stamp = cache_dir / PYZ_NAME, cache_dir / f"{PYZ_NAME}.key"
    key = _key(found)
    if target.is_file() and stamp.is_file() and stamp.read_text() == key:
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        _stage(stage, found)
        partial = Path(tmp) / PYZ_NAME
        zipapp.create_archive(stage, partial, interpreter="/usr/bin/env python3", compressed=True)
        partial.replace(target)
    stamp.write_text(key)
    return target


def agent_route(directory: Path) -> Route:
    """``GET /agent/medic-agent.pyz``, no token needed (it is the public agent): built on the first request into
    ``DIR/cache/agent/``, with psutil wheels from ``DIR/wheels/`` when that directory exists, else from pip."""
    cache = directory / "cache" / "agent"
    wheels = directory / "wheels"

    async def serve(request: Request) -> Response:
        try:
            path = await to_thread.run_sync(build_agent_pyz, cache, wheels if wheels.is_dir() else None)
        except (OSError, subprocess.SubprocessError) as exc:
            return Problem(503, "Service Unavailable", f"the one-file agent cannot be built here: {exc}").response()
        return FileResponse(path, media_type="application/zip", filename=PYZ_NAME)

    return Route(f"/agent/{PYZ_NAME}", serve, methods=["GET"])
