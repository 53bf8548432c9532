"""Words for the orders' states, payment statuses, delivery methods, returns' states and refund methods, marked
for translation (pages only)."""

from __future__ import annotations

from .i18n import N_

ORDER_STATES = {
    "pending_payment": N_("Waiting for payment"), "confirmed": N_("Confirmed"), "in_fulfilment": N_("In fulfilment"),
    "partially_fulfilled": N_("Partially fulfilled"), "fulfilled": N_("Fulfilled"), "completed": N_("Completed"),
    "partially_returned": N_("Partially returned"), "returned": N_("Returned"), "cancelled": N_("Cancelled"),
}
FULFILMENT_STATES = {
    "new": N_("New"), "picking": N_("Picking"), "picked": N_("Picked"), "ready_for_pickup": N_("Ready for pickup"),
    "shipped": N_("Shipped"), "handed_over": N_("Handed over"), "delivered": N_("Delivered"),
    "cancelled": N_("Cancelled"), "awaiting_transfer": N_("Waiting for the transfer"),
}
PAYMENT_STATUSES = {
    "pending": N_("Pending"), "authorized": N_("Authorised"), "paid": N_("Paid"),
    "pay_on_pickup": N_("Pay on pickup"), "cash_on_delivery": N_("Cash on delivery"), "refunded": N_("Refunded"),
}
DELIVERY_METHODS = {
    "ship": N_("Shipping"), "pickup": N_("Pickup in store"), "curbside": N_("Curbside pickup"),
    "pickup_point": N_("Pickup point"), "counter": N_("Sold at the counter"),
    "ship_to_store": N_("Sent to the pickup store"),
}
# the fulfilment-order moves a back-office button makes (the others need a form: ship, hand over)
FULFILMENT_ACTIONS = {
    "picking": N_("Start picking"), "picked": N_("Mark picked"), "ready_for_pickup": N_("Mark ready for pickup"),
    "cancelled": N_("Cancel this fulfilment order"),
}
# timeline entries that are not state changes (others show their kind as recorded)
EVENT_KINDS = {"payment": N_("Payment recorded"), "customer_message": N_("Message to the customer"),
               "customer_message.not_sent": N_("Message not sent: the channel tells its buyers itself"),
               "note": N_("Note")}
RETURN_STATES = {
    "requested": N_("Requested"), "authorised": N_("Authorised"), "received": N_("Received"),
    "inspected": N_("Inspected, refund pending"), "refunded": N_("Refunded"), "closed": N_("Closed"),
    "rejected": N_("Rejected"), "cancelled": N_("Cancelled"),
}
# a returned line's inspection (orders.returns_schemas.Condition, Disposition)
CONDITIONS = {"new": N_("As new"), "opened": N_("Opened"), "used": N_("Used"), "damaged": N_("Damaged")}
DISPOSITIONS = {"restock": N_("Back on the shelf here"), "damaged": N_("Damaged: write off"),
                "return_to_vendor": N_("Return to vendor")}
# how a refund was paid (a recorded refund; the counter's form also offers "no refund now")
REFUND_METHODS = {
    "original_payment": N_("Original payment"), "cash": N_("Cash"), "card": N_("Card"),
    "store_credit": N_("Store credit"), "voucher": N_("Voucher"),
    "marketplace": N_("Through the marketplace"),
}
# what the back office records on a return: a cash refund is paid out at a till (the store app); the original
# payment of a marketplace order goes back through the marketplace by itself (orders.refunds)
BACK_OFFICE_REFUNDS = {method: label for method, label in REFUND_METHODS.items()
                       if method not in ("cash", "marketplace")}
# an order's routing (routing.model.Explanation.summary): the strategy and why a location was left out
ROUTING_STRATEGIES = {"greedy": N_("Greedy: the location that ships the most first"),
                      "optimal": N_("Optimal: the cheapest plan the solver finds")}
EXCLUSION_REASONS = {
    "channel_not_allowed": N_("This channel may not source from it"), "cannot_ship": N_("Cannot ship this order"),
    "no_coordinates": N_("Its map position is not entered, so its parcel cannot be priced"),
    "no_shipping_rate": N_("The carrier has no price for a parcel from there to this address"),
    "capacity_full": N_("No fulfilment capacity left today"), "no_stock": N_("Not enough stock"),
    "protected_shelf_stock": N_("Only the shelf stock the store keeps for walk-in customers"),
}
