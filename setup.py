# Its only job: list the sub-packages under the medic. prefix (see pyproject.toml's package-dir).
# medic.kernel, medic.agent and medic.plugins.probes belong to the light distribution medic-agent
# (packaging/medic-agent), which medic depends on; of medic.plugins.probes medic ships only the pluggy plugin module.
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOTS = ("core", "cli", "plugins", "flows")
FULL_MEDIC_ONLY = {("medic.plugins.probes", "plugin")}  # packaging/medic-agent/setup.py leaves these out


class BuildPy(build_py):
    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        found = super().find_package_modules(package, package_dir)
        if package != "medic.plugins.probes":
            return found
        return [m for m in found if (m[0], m[1]) in FULL_MEDIC_ONLY]


found = find_packages(include=[f"{r}*" for r in ROOTS], exclude=["plugins.probes.*"])
setup(packages=["medic.playbooks"] + [f"medic.{p}" for p in found], cmdclass={"build_py": BuildPy})
