"""The widget script and the demo page (files owned by the widget under api/static/)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.errors import ApiError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["widget"])

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>newsdesk</title></head>
<body><h1>newsdesk</h1>
<p>The chat widget is not built yet (no <code>api/static/demo.html</code>).
The API is up: see <a href="/docs">/docs</a>.</p></body></html>
"""


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> Response:
    path = STATIC_DIR / "widget.js"
    if not path.is_file():
        raise ApiError(404, "not_found", "the widget is not built (no api/static/widget.js)")
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "max-age=300"}
    )


@router.get("/", include_in_schema=False)
async def demo_page() -> Response:
    path = STATIC_DIR / "demo.html"
    if not path.is_file():
        return HTMLResponse(_NOT_BUILT)
    return FileResponse(path, media_type="text/html")
