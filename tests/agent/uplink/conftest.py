"""Fixtures of the agent's uplink tests: a test CA and the tus stand-in (tests/uplink_helpers.py)."""

from uplink_helpers import test_ca, tus_stand_in

__all__ = ["test_ca", "tus_stand_in"]
