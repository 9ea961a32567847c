"""RFC 9457 problem documents: one status, a title, a detail sentence, the field (header or key) at fault and,
for a refusal by one of the collector's limits, ``limit``: its key in collector.yaml."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

TUS_VERSION = "1.0.0"


class Problem(Exception):
    """Raised inside a handler; the app turns it into the response."""

    def __init__(self, status: int, title: str, detail: str, field: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field = status, title, detail, field
        self.headers = headers or {}
        self.extra = extra

    def document(self) -> dict[str, Any]:
        slug = self.title.lower().replace(" ", "-")
        doc: dict[str, Any] = {"type": f"urn:medic:collector:{slug}", "title": self.title, "status": self.status,
                               "detail": self.detail}
        if self.field:
            doc["field"] = self.field
        return {**doc, **self.extra}

    def response(self) -> JSONResponse:
        return JSONResponse(self.document(), status_code=self.status, media_type="application/problem+json",
                            headers={"Tus-Resumable": TUS_VERSION, **self.headers})


def stored(document: dict[str, Any]) -> Problem:
    """A problem kept in the state file (a refused bundle), raised again for the receipt request."""
    # its own type (urn:medic:collector:bundle-refused) is kept: it overrides the one made from the title
    extra = {k: v for k, v in document.items() if k not in ("title", "status", "detail", "field")}
    return Problem(int(document["status"]), document["title"], document["detail"], document.get("field"), **extra)
