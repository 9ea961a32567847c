"""medic's light kernel: errors, models, parameters, probes, YAML loading and the bundle format.

Shared by medic, the endpoint agent and the code medic sends to SSH hosts, so its imports are limited to the
standard library, PyYAML and psutil (checked by import-linter).
"""

__version__ = "0.1.0"
