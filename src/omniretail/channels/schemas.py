"""Channel payloads. Secrets go in, never out: a channel read shows only the names of its secrets."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, WrapValidator

from omniretail.platform.money import validate_currency

from .settings import ChannelSettings, keep_as_sent


class ChannelKind(StrEnum):
    WEBSHOP = "webshop"
    POS = "pos"
    MOBILE_APP = "mobile_app"
    PHONE = "phone"
    MARKETPLACE_ALLEGRO = "marketplace_allegro"
    MARKETPLACE_AMAZON = "marketplace_amazon"
    MARKETPLACE_EBAY = "marketplace_ebay"
    MARKETPLACE_TRENDYOL = "marketplace_trendyol"
    GOOGLE_MERCHANT = "google_merchant"
    CUSTOM = "custom"


# marketplaces take the buyer's payment themselves, and pay it back through their own payment system
MARKETPLACE_NAMES = {ChannelKind.MARKETPLACE_ALLEGRO: "Allegro", ChannelKind.MARKETPLACE_AMAZON: "Amazon",
                     ChannelKind.MARKETPLACE_EBAY: "eBay", ChannelKind.MARKETPLACE_TRENDYOL: "Trendyol"}


def is_marketplace(kind: str | None) -> bool:
    return kind in MARKETPLACE_NAMES


class ChannelLocale(StrEnum):
    PL = "pl"
    EN = "en"
    TR = "tr"
    SQ = "sq"


_SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# Settings are stored and returned in clear text; keys that look like credentials belong in ``secrets``.
_LOOKS_SECRET = re.compile(r"(secret|password|passwd|token|api[_-]?key|private[_-]?key|credential)",
                           re.IGNORECASE)
MAX_SECRET_LENGTH = 20_000


def _check_settings(value: dict[str, Any]) -> dict[str, Any]:
    suspicious = sorted(
        k for k in value if _LOOKS_SECRET.search(k) and not k.lower().endswith(("_url", "_uri"))
    )
    if suspicious:
        raise ValueError(f"{', '.join(suspicious)} look(s) like credentials: send them in `secrets`, "
                         "which is encrypted and never returned")
    return value


def _check_secret_names(value: dict[str, Any]) -> dict[str, Any]:
    for name, secret in value.items():
        if not _SECRET_NAME.match(name):
            raise ValueError(f"secret name {name!r} must be 1-100 of A-Z a-z 0-9 _ . -")
        if secret is not None and len(secret) > MAX_SECRET_LENGTH:
            raise ValueError(f"secret {name!r} is longer than {MAX_SECRET_LENGTH} characters")
    return value


def _check_location_ids(value: list[int]) -> list[int]:
    if len(set(value)) != len(value):
        raise ValueError("a location appears more than once")
    return value


Currency = Annotated[str, AfterValidator(validate_currency)]
# Checked as ChannelSettings (its errors name the key: settings.routing_strategy), kept as the object sent.
Settings = Annotated[ChannelSettings, WrapValidator(keep_as_sent), AfterValidator(_check_settings),
                     PlainSerializer(lambda value: value, return_type=dict[str, Any])]
LocationIds = Annotated[list[int], AfterValidator(_check_location_ids)]
ChannelCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
ChannelName = Annotated[str, Field(min_length=1, max_length=200)]


class ChannelCreate(BaseModel):
    code: ChannelCode
    name: ChannelName
    kind: ChannelKind
    currency: Currency = Field(description="ISO 4217 code, e.g. PLN")
    locale: ChannelLocale = ChannelLocale.PL
    prices_include_tax: bool = Field(default=True, description="Prices are gross (VAT included)")
    is_active: bool = True
    location_ids: LocationIds = Field(default_factory=list,
                                      description="Locations that may fulfil the channel, first = preferred")
    settings: Settings = Field(default_factory=dict, description="Non-secret settings: the known ones "
                               "(docs/channel-settings.md) are checked, others (a connector's own) kept as sent")
    secrets: Annotated[dict[str, str], AfterValidator(_check_secret_names)] = Field(
        default_factory=dict, description="Write-only; stored encrypted, never returned"
    )
    stock_policy: dict[str, Any] = Field(default_factory=dict)
    external_refs: dict[str, str] = Field(default_factory=dict, description="source -> reference")


class ChannelUpdate(BaseModel):
    code: ChannelCode | None = None
    name: ChannelName | None = None
    kind: ChannelKind | None = None
    currency: Currency | None = None
    locale: ChannelLocale | None = None
    prices_include_tax: bool | None = None
    is_active: bool | None = None
    location_ids: LocationIds | None = Field(default=None, description="Replaces the list; order = priority")
    settings: Settings | None = Field(default=None, description="Replaces the settings (checked as on create)")
    secrets: Annotated[dict[str, str | None], AfterValidator(_check_secret_names)] | None = Field(
        default=None, description="Sets the named secrets; a null value removes that secret; others are kept"
    )
    stock_policy: dict[str, Any] | None = None
    external_refs: dict[str, str | None] | None = Field(default=None, description="null detaches a reference")


class ChannelRead(BaseModel):
    id: int
    code: str
    name: str
    kind: ChannelKind
    currency: str
    locale: ChannelLocale
    prices_include_tax: bool
    is_active: bool
    location_ids: list[int]
    settings: dict[str, Any]
    secret_keys: list[str] = Field(description="Names of the stored secrets; their values are never returned")
    secrets_readable: bool = Field(
        default=True, description="False when the stored secrets cannot be decrypted with this instance's key"
    )
    stock_policy: dict[str, Any]
    external_refs: dict[str, str]
    created_at: datetime
    updated_at: datetime
