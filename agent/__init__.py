"""medic's endpoint agent: collection, redaction and bundles.

Everything under ``medic.agent`` imports only the standard library, PyYAML, psutil, the light kernel
(``medic.kernel``, which holds the bundle format) and the probe implementations (``medic.probes``), so
the light ``medic-agent`` distribution never pulls in Prefect, paramiko, pluggy, rich or a web server.
"""

__version__ = "0.1.0"
