"""Cases: the support case store (:mod:`.store`), ``medic cases ...`` commands, routing and SLA clocks, and the
collector hooks that open or join a case when a bundle arrives."""

from __future__ import annotations
