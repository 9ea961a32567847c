"""medic's built-in plugins: probes, checks, step kinds, channels and target kinds.

Each sub-package is an entry point in group ``medic`` (see pyproject.toml), loaded like any third-party plugin.
"""
