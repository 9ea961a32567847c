"""Run ``medic`` with another ``plugins/`` directory in place of this checkout's (an older commit's, or a variant),
everything else from this checkout: for before/after rounds (``bench/ssh_change_bench.py --other``).

    git archive COMMIT plugins | tar -x -C /tmp/before
    .venv/bin/python bench/with_plugins.py /tmp/before/plugins run backup-before-change ...

Works with the editable install ``make setup`` makes (its finder maps ``medic.plugins`` to a directory).
"""

from __future__ import annotations

import runpy
import sys

import __editable___medic_0_1_0_finder as finder  # type: ignore[import-not-found]

finder.MAPPING["medic.plugins"] = sys.argv[1]
sys.argv[1:2] = []
runpy.run_module("medic.cli.main", run_name="__main__", alter_sys=True)
