"""Allegro's batch commands: one modification applied to a set of offers, under a command id we choose.

Source: Allegro REST API OpenAPI (repository mattesilver/allegro-swagger, ``allegro-openapi.yaml``, tag "Batch
offer modification"; developer.allegro.pl/en/command):

* ``PUT /sale/offer-quantity-change-commands/{commandId}`` with ``OfferQuantityChangeCommand``
  ``{modification: {changeType: FIXED, value}, offerCriteria: [{type: CONTAINS_OFFERS, offers: [{id}]}]}``;
  ``PUT /sale/offer-price-change-commands/{commandId}`` with ``OfferPriceChangeCommand``
  ``{modification: {type: FIXED_PRICE, price: {amount, currency}}, offerCriteria: …}``;
  ``PUT /sale/offer-publication-commands/{commandId}`` with ``{publication: {action: ACTIVATE | END},
  offerCriteria: …}``. Each answers **201** with a ``GeneralReport`` ``{id, taskCount: {total, success,
  failed}}``, or **409 "Command id was already used"** when the id is not new.
* One modification per command: a command sets *one* quantity (or price) on all its offers, so a batch is
  split into one command per distinct value.
* Asynchronous: ``GET …/{commandId}`` is the summary (done when ``success + failed = total``) and
  ``GET …/{commandId}/tasks?limit=&offset=`` (defaults 100 / 0) the per-offer ``TaskReport``
  ``{tasks: [{offer: {id}, status: NEW | SUCCESS | FAIL, message, errors}]}``.

The command id is a UUID derived from the channel, the kind, the value and the (listing, version, attempt)
triples of the batch: a batch whose outcome was never recorded (the worker died, its lease ran out) is sent
again with the same id, gets 409 and reads the outcome of the first attempt with ``GET …/{commandId}`` instead of
changing the offers twice; a retry after a recorded failure (a failed task, a refused command) is a new attempt
and so a new command.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..base import ChannelRejected, ChannelUnavailable, ItemResult
from ..http import body_of, error_text

COMMAND_NAMESPACE = uuid.UUID("0b5f3c52-6a3e-4d0e-9a4f-5d8f6f0c2a71")
MAX_OFFERS_PER_COMMAND = 1000
TASK_PAGE = 1000


def command_id(channel_id: int, kind: str, value: Any, items: Iterable[tuple[int, int, int]]) -> str:
    """Deterministic per batch: the same (listing, version, attempt) triples and value give the same id."""
    pairs = ",".join(f"{listing}:{version}:{attempt}" for listing, version, attempt in sorted(items))
    return str(uuid.uuid5(COMMAND_NAMESPACE, f"{channel_id}|{kind}|{value}|{pairs}"))


@dataclass(frozen=True)
class CommandKind:
    path: str  # /sale/offer-quantity-change-commands
    bucket: str  # the rate-limit bucket charged per offer
    label: str


QUANTITY = CommandKind("/sale/offer-quantity-change-commands", "quantity_changes", "quantity")
PRICE = CommandKind("/sale/offer-price-change-commands", "price_changes", "price")
PUBLICATION = CommandKind("/sale/offer-publication-commands", "requests", "publication")


@dataclass
class CommandBatch:
    """Offers that get one modification; ``listings`` maps offer id -> listing ids."""

    kind: CommandKind
    modification: dict[str, Any]
    listings: dict[str, list[int]]
    command_id: str

    def body(self) -> dict[str, Any]:
        offers = [{"id": offer_id} for offer_id in self.listings]
        criteria = [{"type": "CONTAINS_OFFERS", "offers": offers}]
        if self.kind is PUBLICATION:
            return {"publication": self.modification, "offerCriteria": criteria}
        return {"modification": self.modification, "offerCriteria": criteria}


class CommandRunner:
    """Sends one command and waits for its per-offer outcome, through the connector's request helper."""

    def __init__(self, request: Callable[..., Any], *, poll_interval: float, timeout: float,
                 charge: Callable[[str, float], Any]) -> None:
        self.request = request  # async (method, path, json=None, params=None) -> httpx.Response
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.charge = charge

    async def run(self, batch: CommandBatch) -> list[ItemResult]:
        if batch.kind is not PUBLICATION:
            await self.charge(batch.kind.bucket, len(batch.listings))
        path = f"{batch.kind.path}/{batch.command_id}"
        response = await self.request("PUT", path, json=batch.body())
        if response.status_code not in (200, 201, 409):  # 409: sent before; read what became of it
            answer = body_of(response)
            if response.status_code in (400, 422):
                return self._each(batch, ok=False, error=f"{batch.kind.label} command refused "
                                  f"({response.status_code}): {error_text(answer)}", answer=answer)
            raise ChannelRejected(f"{batch.kind.label} command: {response.status_code}", status=response.status_code,
                                  answer=answer)
        # a fresh command is still being processed: its first status read waits one poll interval (the PUT
        # answer already said it was registered); a 409's command may be long done: read at once
        report = await self._wait(path, first_delay=self.poll_interval if response.status_code != 409 else 0.0)
        count = report.get("taskCount") or {}
        if count.get("total") and count.get("success", 0) >= count["total"]:
            return self._each(batch, ok=True, answer={"command_id": batch.command_id, "taskCount": count})
        return await self._tasks(batch, path, report)

    async def _wait(self, path: str, *, first_delay: float = 0.0) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        if first_delay > 0:
            await asyncio.sleep(first_delay)
        while True:
            response = await self.request("GET", path)
            if response.status_code == 404:  # not registered (yet): Allegro has not seen the PUT
                raise ChannelUnavailable(f"command {path} not found after it was sent")
            report = body_of(response)
            count = report.get("taskCount") or {}
            total = count.get("total")
            if total is not None and total > 0 and count.get("success", 0) + count.get("failed", 0) >= total:
                return report
            if time.monotonic() >= deadline:
                return report  # unfinished tasks are reported as retryable below
            await asyncio.sleep(self.poll_interval)

    async def _tasks(self, batch: CommandBatch, path: str, report: dict[str, Any]) -> list[ItemResult]:
        outcome: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            response = await self.request("GET", f"{path}/tasks", params={"limit": TASK_PAGE, "offset": offset})
            tasks = body_of(response).get("tasks") or []
            for task in tasks:
                offer = (task.get("offer") or {}).get("id")
                if offer is not None:
                    outcome[str(offer)] = task
            if len(tasks) < TASK_PAGE:
                break
            offset += len(tasks)
        results = []
        for offer_id, listing_ids in batch.listings.items():
            task = outcome.get(offer_id)
            status = (task or {}).get("status")
            for listing_id in listing_ids:
                if status == "SUCCESS":
                    results.append(ItemResult(listing_id, True, answer={"command_id": batch.command_id}))
                elif status == "FAIL":
                    message = task.get("message") or error_text(task)
                    results.append(ItemResult(listing_id, False, f"Allegro task failed: {message}",
                                              answer={"command_id": batch.command_id, "task": task}))
                else:
                    results.append(ItemResult(listing_id, False, f"Allegro task not finished ({status or 'absent'})",
                                              answer={"command_id": batch.command_id,
                                                      "taskCount": report.get("taskCount")}))
        return results

    @staticmethod
    def _each(batch: CommandBatch, *, ok: bool, error: str | None = None, answer: Any = None) -> list[ItemResult]:
        return [ItemResult(i, ok, error, answer=answer if isinstance(answer, dict) else None)
                for ids in batch.listings.values() for i in ids]


def split(kind: CommandKind, channel_id: int, items: list[tuple[int, int, int, str, Any]],
          modification: Callable[[Any], dict[str, Any]]) -> list[CommandBatch]:
    """Group (listing, version, attempt, offer id, value) by value, at most 1,000 offers a command."""
    by_value: dict[Any, list[tuple[int, int, int, str]]] = {}
    for listing_id, version, attempt, offer_id, value in items:
        by_value.setdefault(value, []).append((listing_id, version, attempt, offer_id))
    batches = []
    for value, group in by_value.items():
        for start in range(0, len(group), MAX_OFFERS_PER_COMMAND):
            chunk = group[start:start + MAX_OFFERS_PER_COMMAND]
            listings: dict[str, list[int]] = {}
            for listing_id, _version, _attempt, offer_id in chunk:
                listings.setdefault(offer_id, []).append(listing_id)
            cid = command_id(channel_id, kind.label, value, ((lid, ver, att) for lid, ver, att, _o in chunk))
            batches.append(CommandBatch(kind, modification(value), listings, cid))
    return batches
