"""medic's packaged playbooks (YAML files in this package)."""
