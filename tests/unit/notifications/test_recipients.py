"""Who gets a message on which channel: preferences, opt-outs, and the messages no one may opt out of."""

from __future__ import annotations

from omniretail.notifications.models import NotificationPreference
from omniretail.notifications.schemas import CustomerContact
from omniretail.notifications.service import plan_recipients

BOTH = CustomerContact(id=1, name="Anna", email="anna@example.com", phone="+48600100200")


def pref(channels, opted_out=()):
    return NotificationPreference(customer_id=1, channels=list(channels), opted_out=list(opted_out))


def test_without_a_preference_email_first_then_sms():
    assert plan_recipients("shipped", BOTH, None) == ([("email", "anna@example.com")], None)
    phone_only = CustomerContact(phone="+48600100200")
    assert plan_recipients("shipped", phone_only, None) == ([("sms", "+48600100200")], None)
    targets, skipped = plan_recipients("shipped", CustomerContact(name="Walk-in"), None)
    assert targets == [] and skipped[1] == "no phone number for the customer"


def test_preferred_channels_are_used():
    assert plan_recipients("shipped", BOTH, pref(["sms"])) == ([("sms", "+48600100200")], None)
    targets, _ = plan_recipients("shipped", BOTH, pref(["email", "sms"]))
    assert targets == [("email", "anna@example.com"), ("sms", "+48600100200")]


def test_opting_out_of_a_template_skips_it_with_a_reason():
    targets, skipped = plan_recipients("shipped", BOTH, pref(["email"], ["shipped"]))
    assert targets == []
    assert skipped == (("email", "anna@example.com"), "the customer opted out of shipped messages")
    assert plan_recipients("delayed", BOTH, pref(["email"], ["shipped"]))[0] == [("email", "anna@example.com")]


def test_a_cancellation_is_always_told():
    assert plan_recipients("cancelled", BOTH, pref(["email"], ["cancelled"]))[0] == [("email", "anna@example.com")]
    # no channel chosen, or the chosen one cannot reach: whatever reaches the customer
    assert plan_recipients("cancelled", BOTH, pref([]))[0] == [("email", "anna@example.com")]
    phone_only = CustomerContact(id=1, phone="+48600100200")
    assert plan_recipients("cancelled", phone_only, pref(["email"]))[0] == [("sms", "+48600100200")]
    assert plan_recipients("shipped", phone_only, pref(["email"]))[0] == []


def test_addresses_that_cannot_be_used_count_as_missing():
    smuggled = CustomerContact(email="anna@example.com\nBcc: everyone@example.com", phone="+48 600 100 200")
    assert plan_recipients("shipped", smuggled, None) == ([("sms", "+48 600 100 200")], None)
    nothing = CustomerContact(email="not-an-address", phone="call me")
    assert plan_recipients("cancelled", nothing, None)[0] == []
