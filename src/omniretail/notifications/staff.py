"""Messages to staff (store managers, the back office) rather than customers: rendered from the same per-locale
templates (``templates/<locale>/<template>.j2``, blocks ``subject``, ``text``, ``html``, ``sms``), logged in the
same delivery log (``customer_id`` None, the recipient's own locale) and sent by the same senders after commit.

Templates:

* ``store_order_late`` (:class:`LateOrder`): a fulfilment order is past its promise and not ready (dispatched)
  yet — the store, the order number, the customer, the promised time in the store's time zone, the minutes
  late and a link to the order's back-office page.

A message is logged once per (outbox event, recipient, template), like a customer's: a redelivered event
queues nothing again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.i18n import normalise_locale

from . import templates
from .schemas import Moment, RenderedMessage
from .service import PENDING_GRACE, log_deliveries, usable_email

STORE_ORDER_LATE = "store_order_late"
STAFF_TEMPLATES = (STORE_ORDER_LATE,)


class LateOrder(BaseModel):
    """What ``store_order_late`` shows."""

    model_config = ConfigDict(extra="ignore")

    order_id: int
    order_number: str = Field(min_length=1)
    fulfilment_order_id: int
    store: str
    timezone: str = "UTC"
    customer_name: str = ""
    delivery_method: str
    promised_by: Moment
    minutes_late: int = Field(ge=0)
    order_url: str


@dataclass(frozen=True)
class StaffRecipient:
    email: str
    locale: str = "en"


def render_staff(template: str, locale: str | None, data: LateOrder) -> RenderedMessage:
    """Render a staff template for ``locale`` (unsupported locales fall back to the default one)."""
    if template not in STAFF_TEMPLATES:
        raise ValueError(f"unknown staff template {template!r}")
    locale = normalise_locale(locale)
    fmt = templates.LocaleFormat(locale, "EUR")  # no amounts in staff messages; the currency is never used
    context = {"alert": data, "locale": locale, "when": fmt.when, "date": fmt.date}
    return templates.render_context(template, locale, context)


async def queue_staff_message(session: AsyncSession, *, event_id: int, template: str, data: LateOrder,
                              recipients: list[StaffRecipient]) -> list[int]:
    """Log one email per recipient (each in their own locale; an unusable address is logged as skipped) in the
    event's transaction; returns the ids of the new pending rows, to send after commit."""
    now = clock.now()
    rendered: dict[str, RenderedMessage] = {}
    rows, seen = [], set()
    for recipient in recipients:
        address = usable_email(recipient.email)
        key = (address or recipient.email).lower()
        if key in seen:
            continue
        seen.add(key)
        locale = normalise_locale(recipient.locale)
        if locale not in rendered:
            rendered[locale] = render_staff(template, locale, data)
        message = rendered[locale]
        row = {"event_id": event_id, "template": template, "locale": locale, "order_ref": str(data.order_id),
               "order_number": data.order_number, "customer_id": None, "subject": message.subject[:300],
               "attempts": 0, "created_at": now, "channel": "email", "recipient": address or recipient.email[:254],
               "body_text": message.text, "body_html": message.html}
        if address:
            row.update(status="pending", next_attempt_at=now + PENDING_GRACE)
        else:
            row.update(status="skipped", error="not a usable email address", next_attempt_at=None)
        rows.append(row)
    return await log_deliveries(session, rows)
