"""medic's command line. Each sub-module adds one command (group); main.py dispatches and maps errors."""
