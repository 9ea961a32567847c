"""One distribution owns each file: medic-agent (kernel, agent, probes) and medic, which depends on it."""

from __future__ import annotations

import stat
import tomllib
import zipfile
from pathlib import Path

import pytest
from wheel_helpers import REPO, Wheels, modules, record

import medic.agent
import medic.kernel


def test_versions_agree() -> None:
    main = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    agent = tomllib.loads((REPO / "packaging" / "medic-agent" / "pyproject.toml").read_text())["project"]
    assert agent["name"] == "medic-agent"
    assert main["version"] == agent["version"] == medic.kernel.__version__ == medic.agent.__version__
    assert f"medic-agent=={agent['version']}" in main["dependencies"]


@pytest.mark.slow
def test_no_file_is_in_both_wheels(wheels: Wheels) -> None:
    medic_files, agent_files = set(record(wheels.medic)), set(record(wheels.agent))
    assert medic_files & agent_files == set()
    light = {n for n in modules(wheels.agent) if n.startswith(("medic.kernel", "medic.agent"))}
    assert {"medic.kernel.bundle.reader", "medic.agent.cli", "medic.agent.leakscan"} <= light
    assert "medic.probes.system" in modules(wheels.agent)
    assert not any(n.startswith(("medic.kernel", "medic.agent")) for n in modules(wheels.medic))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["medic", "agent"])
def test_wheels_hold_the_real_files_not_links(wheels: Wheels, which: str) -> None:
    """packaging/medic-agent reaches its folders through links: the wheel must hold their files' contents."""
    wheel: Path = getattr(wheels, which)
    with zipfile.ZipFile(wheel) as zf:
        members = [i for i in zf.infolist() if ".dist-info/" not in i.filename]
        assert [i.filename for i in members if stat.S_ISLNK(i.external_attr >> 16)] == []
        for info in members:  # medic/<part>/... is <part>/... in this repository
            assert zf.read(info) == (REPO / info.filename.removeprefix("medic/")).read_bytes(), info.filename
