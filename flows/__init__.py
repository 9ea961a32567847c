"""Prefect flows that run medic playbooks (the only part of medic that imports Prefect)."""
