# Its only job: list the sub-packages under the medic. prefix (see pyproject.toml's package-dir).
# medic.kernel, medic.agent and medic.probes belong to the light distribution medic-agent
# (packaging/medic-agent), which medic depends on, so medic ships none of their files.
from setuptools import find_packages, setup

ROOTS = ("core", "cli", "plugins", "flows", "testing")
found = find_packages(include=[f"{r}*" for r in ROOTS])
setup(packages=["medic.playbooks"] + [f"medic.{p}" for p in found])
