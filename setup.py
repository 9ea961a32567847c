# Its only job: list the sub-packages under the medic. prefix (see pyproject.toml's package-dir).
from setuptools import find_packages, setup

ROOTS = ("kernel", "core", "cli", "plugins", "agent", "flows")
setup(packages=["medic.playbooks"] + [f"medic.{p}" for p in find_packages(include=[f"{r}*" for r in ROOTS])])
