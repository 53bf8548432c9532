"""Links between pages of a list: the current query with a new cursor."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request


def next_page_url(request: Request, next_cursor: str | None) -> str | None:
    if not next_cursor:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor" and v != ""]
    params.append(("cursor", next_cursor))
    return f"{request.url.path}?{urlencode(params)}"
