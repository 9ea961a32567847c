"""An example third-party medic plugin.

``medic_example.probes`` holds its probe (entry-point group ``medic.probes``): light code, importing only the
standard library and ``medic.kernel``, so medic ships it to SSH hosts and the endpoint agent collects it into
bundles. ``medic_example.plugin`` holds what only medic itself loads (entry-point group ``medic``, pluggy): two
checks and a channel. This package's ``__init__`` imports neither, so importing the probe stays light.
"""
