"""A refusal from the services as a sentence in the reader's language.

The services word their errors for developers, in English (the API's problem ``detail``). A page shows the
same refusal in Polish, Turkish, Albanian or English: :func:`describe` knows the error classes that carry
what a sentence needs (a state, a SKU and its stock) and the fixed wordings the services use, each with the
page's own sentence here (so the catalogues are extracted from this package); anything else keeps the
service's words. Pages with a case of their own (a field to put it next to) ask for that first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import Request

from omniretail.inventory.errors import InsufficientStock
from omniretail.orders.returns_amounts import NothingToRefund, OverRefund
from omniretail.orders.states import IllegalTransition
from omniretail.platform import i18n as fmt
from omniretail.platform.errors import DomainError

from .i18n import N_, request_locale
from .order_labels import FULFILMENT_STATES, ORDER_STATES, RETURN_STATES
from .stock_forms import t

ILLEGAL = N_("This is no longer possible: it is “%(state)s” now. Reload the page.")

# the services' fixed wordings (``raise …("…")``) → the page's sentence; tests/unit/web/test_error_text.py
# checks that each is still raised somewhere, so a reworded service message cannot silently fall back to English
DETAILS = {
    # returns and exchanges
    "say where the return was received": N_("Choose the store that takes the goods back."),
    "choose at least one line and how many units come back": N_(
        "Choose at least one line and how many units come back."),
    "a store associate takes returns back at their own store": N_("You can take returns back at your own store only."),
    "a store associate names the store taking the return back": N_("Choose the store that takes the return back."),
    "inspect every line of the return once": N_("Inspect every line of the return, once."),
    "name lines of this return, each once": N_("Choose lines of this return, each once."),
    "these lines were exchanged already": N_("These lines were exchanged already."),
    "these lines were exchanged meanwhile": N_("Someone exchanged these lines meanwhile. Reload the page."),
    "this exchange was placed already": N_("This exchange was placed already."),
    "say how the customer gets the replacement": N_("Choose how the customer gets the replacement."),
    # orders
    "could not allocate an order number; retry": N_("The order could not be saved this time. Try again."),
    "only curbside orders check in": N_("Only curbside orders check in."),
    "a counter sale is paid at the till": N_("A counter sale is paid at the till."),
    "a store associate places orders for their own store": N_("You can place orders for your own store only."),
    "a wave draws on every location's stock: managers run it": N_(
        "Only a manager can run a wave: it draws on every location's stock."),
    "give the order number, the customer's e-mail or phone, or the channel's order id": N_(
        "Enter the order number, the customer's e-mail or phone, or the channel's order number."),
    "no lines": N_("Add at least one line."),
    "quantity must be positive": N_("Quantities must be more than 0."),
    "the note is longer than 500 characters": N_("The note may be at most 500 characters long."),
    # stores, pages
    "choose a store": N_("Choose a store."),
    "there is no such store": N_("This store does not exist, or you may not work there."),
    "there is no such page": N_("This page of the list no longer exists: start from the first page."),
    "invalid cursor": N_("This page of the list no longer exists: start from the first page."),
    # stock
    "a delivery needs its delivery note number": N_("Enter the delivery note number."),
    "an adjustment needs a reason": N_("Give a reason for the adjustment."),
    "adjustment quantities must not be 0": N_("Adjustment quantities must not be 0."),
    "a counted figure cannot be negative": N_("A counted figure cannot be negative."),
    # accounts
    "you cannot deactivate yourself": N_("You cannot deactivate your own account."),
    "you cannot change the role of, or deactivate, your own account": N_(
        "You cannot change the role of your own account, or deactivate it."),
    "only an owner may manage an owner account": N_("Only an owner may manage an owner's account."),
}


def describe(request: Request, exc: DomainError) -> str:
    """``exc`` as a sentence in the reader's language where the case is known, else the service's words."""
    if isinstance(exc, IllegalTransition):
        state = str(exc.extensions.get("current_state") or "")
        label = ORDER_STATES.get(state) or FULFILMENT_STATES.get(state) or RETURN_STATES.get(state)
        return t(request, ILLEGAL, state=t(request, label) if label else state)
    if isinstance(exc, InsufficientStock):
        return t(request, N_("Not enough free stock of %(sku)s: %(available)s can leave, %(requested)s asked for."),
                 sku=exc.sku, available=exc.available, requested=exc.requested)
    if isinstance(exc, OverRefund):
        return t(request, N_("At most %(amount)s can be refunded now."), amount=refundable(request, exc))
    if isinstance(exc, NothingToRefund):
        return t(request, N_("Nothing is left to refund on this return."))
    known = DETAILS.get(exc.detail)
    return t(request, known) if known else exc.detail


def refundable(request: Request, exc: OverRefund, currency: str = "") -> str:
    """What may still be refunded, as money is written in the reader's language (420,99 zł)."""
    try:
        amount = Decimal(str(exc.extensions.get("refundable", "0")))
    except InvalidOperation:
        amount = Decimal(0)
    return fmt.money(amount, str(exc.extensions.get("currency") or currency), request_locale(request))
