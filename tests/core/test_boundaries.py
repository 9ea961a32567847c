"""Import boundaries: the kernel, the agent and the probes never import orchestration, SSH or web libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("prefect", "paramiko", "fastapi", "starlette", "uvicorn", "httpx", "rich", "pluggy", "pydantic", "typer")


def test_kernel_agent_and_probes_import_no_heavy_library() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import medic.kernel, medic.agent, medic.probes\n"
        "for pkg in (medic.kernel, medic.agent, medic.probes):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name.endswith('.plugin'):  # the pluggy registration, which medic ships\n"
        "            continue\n"
        "        importlib.import_module(m.name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_core_engine_imports_no_prefect() -> None:
    code = ("import sys, medic.core.engine, medic.core.session, medic.core.report\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'paramiko'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
