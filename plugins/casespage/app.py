"""The Starlette application of the cases page: routes, the token check, and headers that forbid any script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from medic.kernel.errors import UsageError
from medic.plugins.casespage import views
from medic.plugins.casespage.auth import authorised

# no script at all, not even inline: markup that slipped into a page could still not run
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}


Deny = Callable[[Request], Awaitable[Response | None]]  # a refusal for the request, or None to serve it


def token_check(token: str | None) -> Deny:
    """``medic casespage``'s rule: with a token set, a request must carry it (bearer, or basic as the password)."""
    async def deny(request: Request) -> Response | None:
        if token is None or authorised(request.headers.get("authorization"), token):
            return None
        return PlainTextResponse("a token is required\n", status_code=401,
                                 headers={"WWW-Authenticate": 'Basic realm="medic cases"'})
    return deny


def page_routes(src: views.Sources, deny: Deny) -> list[Route]:
    """The page's routes (``/``, ``/cases/...``, ``/kb...``), each asking ``deny`` first and answering with the
    security headers: what ``medic casespage`` serves, and what the collector adds to its own routes."""
    def html(render: Callable[[Request], str]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            response = await deny(request)
            if response is None:
                try:
                    response = HTMLResponse(render(request))
                except UsageError as exc:  # an unknown case or article
                    response = HTMLResponse(views.page("error.html.j2", message=str(exc)), status_code=404)
            response.headers.update(HEADERS)
            return response
        return endpoint

    return [
        Route("/", html(lambda r: views.case_list(src, r.query_params))),
        Route("/cases/{case_id}", html(lambda r: views.case_page(src, r.path_params["case_id"]))),
        Route("/cases/{case_id}/far", html(lambda r: views.far_page(src, r.path_params["case_id"]))),
        Route("/kb", html(lambda r: views.kb_page(src, r.query_params))),
        Route("/kb/{article_id}", html(lambda r: views.article_page(src, r.path_params["article_id"]))),
    ]


def make_app(src: views.Sources, token: str | None = None) -> Starlette:
    return Starlette(routes=page_routes(src, token_check(token)))


def sources(state: Path, config: dict[str, Any]) -> views.Sources:
    from medic.plugins.cases.store import default_path

    return views.Sources(default_path(config), state, views.load_routing())
