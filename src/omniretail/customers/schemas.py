"""Customer payloads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CustomerDetails(BaseModel):
    """Who placed an order, as the channel tells it; matched to a profile by identity, e-mail or phone."""

    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    external_id: str | None = Field(default=None, max_length=200, description="The channel's id for the buyer")
    locale: str | None = Field(default=None, max_length=10)
    marketing_consent: bool | None = None


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
