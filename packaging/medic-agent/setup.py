"""List the sub-packages of the light distribution under the medic. prefix (see pyproject.toml's package-dir),
and leave out the one probe module that belongs to the full medic (it registers probes with pluggy)."""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOTS = {"kernel": "medic.kernel", "agent": "medic.agent", "probes": "medic.plugins.probes"}
FULL_MEDIC_ONLY = {("medic.plugins.probes", "plugin")}  # shipped by the root setup.py instead


def package_name(found: str) -> str:
    root, _, rest = found.partition(".")
    return ROOTS[root] + (f".{rest}" if rest else "")


class BuildPy(build_py):
    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        found = super().find_package_modules(package, package_dir)
        return [m for m in found if (m[0], m[1]) not in FULL_MEDIC_ONLY]


setup(packages=[package_name(p) for p in find_packages(include=[f"{r}*" for r in ROOTS])],
      cmdclass={"build_py": BuildPy})
