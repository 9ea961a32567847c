"""medic's core: models, playbook loading, the engine and the plugin manager (no Prefect here)."""

__version__ = "0.1.0"
