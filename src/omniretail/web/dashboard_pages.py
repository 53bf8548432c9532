"""The back office home: the dashboard (today's orders and revenue by channel, orders waiting by state,
pickups about to expire, orders late at stores, low-stock alerts, sync health, 14 days of sales) with charts and their tables.

The figures come from ``omniretail.analytics``; the charts are drawn by ``static/charts.js`` (Chart.js served
with the app) from JSON in the page, and every chart has a table with the same numbers for screen readers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.analytics import dashboard as figures
from omniretail.api.deps import SessionDep
from omniretail.platform import i18n as fmt

from . import queries
from .deps import OverviewReader, PageRoute, render
from .i18n import page_zone, request_locale, translations_for
from .order_labels import DELIVERY_METHODS, FULFILMENT_STATES, ORDER_STATES

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/backoffice")
async def dashboard(request: Request, session: SessionDep, principal: OverviewReader) -> Response:
    zone, _labelled = page_zone(request, {})  # the instance's display zone: "today" is a day there
    board = await figures.dashboard(session, principal=principal, zone=zone)
    counts = await queries.overview_counts(session, principal=principal)
    locale = request_locale(request)
    gettext = translations_for(locale).gettext
    labels = {state: gettext(label) for state, label in ORDER_STATES.items()}
    return render(request, "backoffice/dashboard.html", {
        "board": board, "counts": counts, "zone": zone, "state_labels": ORDER_STATES,
        "fulfilment_labels": FULFILMENT_STATES, "method_labels": DELIVERY_METHODS,
        "chart_data": figures.chart_data(board, labels, lambda d: fmt.day(d, locale)),
        "chart_text": {"orders": gettext("Orders"), "revenue": gettext("Revenue")},
    })
