"""Sync API payloads: listings with their desired and acknowledged state, the sync log, status, deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_LINK_ITEMS = 1000


class ListingState(StrEnum):
    SYNCED = "synced"  # the channel acknowledged the desired state
    DUE = "due"  # waiting to be sent (or in flight)
    ERROR = "error"  # the last attempt failed; retried with back-off
    PARKED = "parked"  # failed too often (or cannot succeed): waits for POST …/retry


class ListingLink(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    external: dict[str, Any] = Field(default_factory=dict,
                                     description="The channel's ids: offer_id (Allegro); inventory_item_id, "
                                                 "variant_id, product_id, location_id (Shopify)")


class ListingLinkRequest(BaseModel):
    items: list[ListingLink] = Field(min_length=1, max_length=MAX_LINK_ITEMS)


class ListingLinkResult(BaseModel):
    created: int
    updated: int
    unknown_skus: list[str]


class ListingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: int
    variant_id: int
    sku: str = ""
    state: ListingState
    external: dict[str, Any]
    desired_quantity: int | None
    desired_price_minor: int | None
    desired_published: bool
    desired_version: int
    desired_at: datetime | None
    acked_quantity: int | None
    acked_price_minor: int | None
    acked_published: bool | None
    acked_version: int
    acked_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class SyncLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    listing_id: int | None
    operation: str
    version: int | None
    status: str
    sent: dict[str, Any] | None
    answer: dict[str, Any] | None
    error: str | None
    duration_ms: int | None
    lag_ms: int | None
    worker: str
    at: datetime


class SyncStatusRead(BaseModel):
    channel_id: int
    connector: str | None
    listings: int
    queue_depth: int = Field(description="Listings whose desired state is not acknowledged yet")
    backing_off: int
    parked: int
    oldest_unacknowledged_at: datetime | None
    last_ack_at: datetime | None
    lag_p50_s: float | None = Field(description="Over the last 1,000 acknowledgements")
    lag_p99_s: float | None
    errors_last_hour: int
    pending_recomputes: int
    deliveries_pending: int
    deliveries_parked: int
    cursors: dict[str, str | None]
    last_reconcile: SyncLogRead | None


class ReconcileAccepted(BaseModel):
    channel_id: int
    requested_at: datetime
    detail: str = "reconciliation runs within seconds; see GET …/sync-status and the sync log"


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    topic: str
    dedup_key: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    duration_ms: int | None
    created_at: datetime
    delivered_at: datetime | None
