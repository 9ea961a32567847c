"""The read-only cases page served by the collector, behind the collector's own authentication.

With ``cases_viewers`` set in collector.yaml (names given to ``medic collector enroll --name``), the collector adds
the page's routes (``/``, ``/cases/...``, ``/kb...``; none clashes with ``/enroll``, ``/files/`` or ``/agent/``)
over the same TLS listener. A request must carry the bearer token of an enrolled, unrevoked agent, checked exactly
as for an upload (``bearer_agent``: 401, a revocation applies at once, the agent's request rate), and that agent's
name must be listed: an endpoint's token reads no case (403). Without ``cases_viewers`` there is no page (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from medic.plugins.collector.context import Collector
from medic.plugins.collector.problems import Problem

BearerAgent = Callable[[Request, Collector], Awaitable[dict[str, Any]]]


def case_routes(col: Collector, bearer_agent: BearerAgent) -> list[Route]:
    if not col.config.cases_viewers:
        return []
    from medic.core.config import load_config, state_dir
    from medic.plugins.casespage.app import page_routes, sources

    viewers = frozenset(col.config.cases_viewers)

    async def deny(request: Request) -> Response | None:
        try:
            agent = await bearer_agent(request, col)
        except Problem as problem:
            return problem.response()
        if agent["name"] not in viewers:
            return Problem(403, "Forbidden", f"agent {agent['name']!r} is not in cases_viewers",
                           "Authorization").response()
        return None

    config = load_config()
    return page_routes(sources(state_dir(config), config), deny)
