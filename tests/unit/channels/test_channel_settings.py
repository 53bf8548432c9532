"""The typed model of channel settings covers every key the code reads, takes its allowed values from where they
are used, and the order path's reader checks a stored value once per channel context."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from omniretail.channels import settings as channel_settings
from omniretail.channels.connectors import CONNECTORS
from omniretail.channels.schemas import ChannelCreate, ChannelUpdate
from omniretail.inventory.availability import StockPolicy
from omniretail.orders import placement
from omniretail.orders.sourcing import ChannelContext
from omniretail.routing.solver import STRATEGIES

ROOT = Path(channel_settings.__file__).resolve().parents[3]
# ``channel.setting("x")`` (orders' ChannelContext, connectors) and ``….settings.get("x")`` / ``(settings or
# {}).get("x")`` on a channel's settings
READS = re.compile(r"""(?:\.setting\(|settings(?: or \{\}\))?\.get\()"(\w+)\"""")


def keys_read_by_the_code() -> set[str]:
    found = set()
    for path in (ROOT / "src" / "omniretail").rglob("*.py"):
        if path.name == "settings.py" and path.parent.name == "channels":
            continue
        found |= set(READS.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_setting_the_code_reads_is_in_the_model():
    read = keys_read_by_the_code()
    assert {"routing_strategy", "shipping_fee", "unfillable", "pickup_expiry_days", "topics"} <= read
    assert read - channel_settings.KNOWN == set()
    assert set(StockPolicy.KEYS) <= channel_settings.KNOWN  # orders.holds reads them from settings
    assert {"ship_to_store", "public_url", *placement.PROMISE_SETTINGS} <= channel_settings.KNOWN


def test_allowed_values_come_from_where_they_are_used():
    assert channel_settings.allowed_values("routing_strategy") == list(STRATEGIES)
    assert channel_settings.allowed_values("unfillable") == list(placement.UNFILLABLE)
    assert channel_settings.allowed_values("connector") == [*CONNECTORS, "none"]
    assert channel_settings.allowed_values("shipping_fee") is None
    assert channel_settings.allowed_values("seller_id") is None


def test_every_known_setting_is_documented():
    text = (ROOT / "docs" / "channel-settings.md").read_text(encoding="utf-8")
    missing = sorted(k for k in channel_settings.KNOWN if f"`{k}`" not in text)
    assert missing == []


@pytest.mark.parametrize("fee", ["0", "9.99", "5.000", 12, 9.99, Decimal("1.5"), " 3.50 "])
def test_amounts_placement_can_read(fee):
    assert channel_settings.problem("shipping_fee", fee) is None
    Decimal(str(fee))  # as placement reads it


@pytest.mark.parametrize("fee", ["abc", "-5", -1, "1.999", 1e-7, "1e3", "NaN", float("inf"), True, None, [],
                                 "10000000000000"])
def test_amounts_placement_cannot_read(fee):
    assert channel_settings.problem("shipping_fee", fee)


def test_the_schemas_keep_settings_as_sent():
    sent = {"shipping_fee": 9.99, "routing_strategy": "optimal", "vendor": {"x": [1]}}
    created = ChannelCreate(code="web", name="Web", kind="webshop", currency="PLN", settings=sent)
    assert created.settings == sent and type(created.settings) is dict
    assert created.model_dump(mode="json")["settings"] == sent
    update = ChannelUpdate(settings=sent)
    assert update.model_dump(mode="json", exclude_unset=True) == {"settings": sent}
    assert ChannelUpdate().settings is None


def context(settings: dict, stock_policy: dict | None = None) -> ChannelContext:
    return ChannelContext(7, "web", "webshop", "PLN", "pl", True, True, settings, stock_policy or {}, None, ())


def test_the_order_reader_refuses_a_stored_bad_value_naming_it():
    channel = context({"routing_strategy": "nonsense", "seller_id": "x"}, {"unfillable": "bogus"})
    with pytest.raises(channel_settings.InvalidChannelSetting) as caught:
        channel.setting("routing_strategy", "greedy")
    problem = caught.value.to_problem()
    assert problem["status"] == 422 and problem["field"] == "settings.routing_strategy"
    assert problem["channel_id"] == 7 and problem["allowed"] == ["greedy", "optimal"]
    with pytest.raises(channel_settings.InvalidChannelSetting) as caught:
        channel.setting("unfillable")  # found in stock_policy: named there
    assert caught.value.extensions["field"] == "stock_policy.unfillable"
    assert channel.setting("seller_id") == "x"  # not a setting the product reads
    assert channel.setting("max_parcels", 3) == 3


def test_the_order_reader_checks_a_setting_once_per_context_and_returns_it_as_stored():
    channel = context({"shipping_fee": 9.99, "allow_split": False})
    assert channel.setting("shipping_fee", "0") == 9.99 and channel.setting("allow_split", True) is False
    assert channel.checked == {"shipping_fee", "allow_split"}
    assert replace(channel, existing_order_id=5).checked is channel.checked  # the cached context's copies share it
