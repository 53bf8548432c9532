"""Customer payloads."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

# what an e-mail address and a phone number must look like to be taken (matching normalises them further)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE_PATTERN = re.compile(r"^\+?[\d\s().\-/]+$")


def checked_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not EMAIL_PATTERN.match(value.strip()):
        raise ValueError("not an e-mail address (name@example.com)")
    return value.strip()


def checked_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_PATTERN.match(value.strip()) or not 6 <= digits <= 15:
        raise ValueError("not a phone number (6–15 digits, optionally +country code)")
    return value.strip()


class CustomerDetails(BaseModel):
    """Who placed an order, as the channel tells it; matched to a profile by identity, e-mail or phone. An
    e-mail or phone that cannot be one is refused (422), not dropped: the buyer would get no messages."""

    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, examples=["anna@example.com"])
    phone: str | None = Field(default=None, max_length=40, examples=["+48 501 234 567"])
    external_id: str | None = Field(default=None, max_length=200, description="The channel's id for the buyer")
    locale: str | None = Field(default=None, max_length=10)
    marketing_consent: bool | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return checked_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return checked_phone(value)


class ImportedBuyer(CustomerDetails):
    """A marketplace's buyer, taken as the marketplace reports it: an unusable e-mail or phone is left out (the
    order is imported all the same; the buyer is matched by what remains), never a reason to refuse the order."""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _usable(checked_email, value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return _usable(checked_phone, value)


def _usable(check, value: str | None) -> str | None:
    try:
        return check(value)
    except ValueError:
        return None


class CustomerUpdate(BaseModel):
    """What staff may change on a profile (the e-mail and phone follow the customer's orders: they match them)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=10, description="Messages' language: pl, en, tr or sq")
    marketing_consent: bool | None = Field(default=None, description="The customer's answer; a withdrawal "
                                                                      "applies at once")


class CustomerIdentityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: int
    external_id: str
    email: str | None
    phone: str | None
    created_at: datetime


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str | None
    phone: str | None
    locale: str
    marketing_consent: bool
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime


class CustomerDetailRead(CustomerRead):
    identities: list[CustomerIdentityRead]
    order_count: int


class CustomerMergeCreate(BaseModel):
    source_customer_id: int = Field(description="The profile merged away (it keeps its row, marked merged)")
    reason: str = Field(default="", max_length=500)


class CustomerMergeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_customer_id: int
    target_customer_id: int
    identity_ids: list[int]
    order_ids: list[int]
    merged_at: datetime
    merged_by: str
    reason: str
    unmerged_at: datetime | None
    unmerged_by: str | None
