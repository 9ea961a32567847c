"""The Starlette application of the cases page: routes, the token check, and headers that forbid any script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
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


class Guard(BaseHTTPMiddleware):
    """The token (when one is set) on every request, and the security headers on every answer."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if self.token is not None and not authorised(request.headers.get("authorization"), self.token):
            response: Response = PlainTextResponse("a token is required\n", status_code=401,
                                                   headers={"WWW-Authenticate": 'Basic realm="medic cases"'})
        else:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response


def make_app(src: views.Sources, token: str | None = None) -> Starlette:
    def html(render: Callable[[Request], str]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return HTMLResponse(render(request))
            except UsageError as exc:  # an unknown case or article
                return HTMLResponse(views.page("error.html.j2", message=str(exc)), status_code=404)
        return endpoint

    routes = [
        Route("/", html(lambda r: views.case_list(src, r.query_params))),
        Route("/cases/{case_id}", html(lambda r: views.case_page(src, r.path_params["case_id"]))),
        Route("/cases/{case_id}/far", html(lambda r: views.far_page(src, r.path_params["case_id"]))),
        Route("/kb", html(lambda r: views.kb_page(src, r.query_params))),
        Route("/kb/{article_id}", html(lambda r: views.article_page(src, r.path_params["article_id"]))),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)])


def sources(state: Path, config: dict[str, Any]) -> views.Sources:
    from medic.plugins.cases.store import default_path

    return views.Sources(default_path(config), state, views.load_routing())
