"""medic's endpoint agent: collection, redaction and bundles.

Everything under ``medic.agent`` imports only the standard library, PyYAML, psutil and ``medic.core``'s
stdlib-only modules, so a light agent install never pulls in Prefect, paramiko, rich or a web server.
"""

__version__ = "0.1.0"
