"""The interactive API documentation at ``/docs``: Swagger UI served from the app's own static files (no CDN,
so it works on a shop's network without internet access), in a page that says its language."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="omniretail API",
                               swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                               swagger_favicon_url="/static/favicon.svg")
    html = page.body.decode().replace("<html>", '<html lang="en">', 1)
    return HTMLResponse(html)
