"""List the sub-packages of the light distribution under the medic. prefix (see pyproject.toml's package-dir)."""

from setuptools import find_packages, setup

ROOTS = {"kernel": "medic.kernel", "agent": "medic.agent", "probes": "medic.probes"}


def package_name(found: str) -> str:
    root, _, rest = found.partition(".")
    return ROOTS[root] + (f".{rest}" if rest else "")


setup(packages=[package_name(p) for p in find_packages(include=[f"{r}*" for r in ROOTS])])
