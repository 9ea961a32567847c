"""Build the light ``medic-agent`` distribution from this repository (see build_dist.py)."""
