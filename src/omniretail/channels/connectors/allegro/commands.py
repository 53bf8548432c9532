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
  ``GET …/{commandId}/tasks?limit=&offset=`` (defaults 100 / 0, limit at most 1,000) the per-offer
  ``TaskReport`` ``{tasks: [{offer: {id}, status: NEW | SUCCESS | FAIL, message, errors}]}``; we read only the
  task report (:class:`CommandRunner`).
* Limits (developer.allegro.pl/en/command): quantity changes 9,000 offers/min and 250,000/h, price changes
  9,000/min and 150,000/h, on top of the 9,000 requests/min of the client id — a command costs one request and
  as many offer changes as it names offers. Offers are grouped by target value so that a command changes as many
  offers as possible per request.

The command id is a UUID derived from the channel, the kind, the value and the (listing, version, attempt)
triples of the batch: a batch whose outcome was never recorded (the worker died, its lease ran out) is sent
again with the same id, gets 409 and reads the outcome of the first attempt with ``GET …/{commandId}/tasks`` instead of
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
TASK_PAGE = 1000  # GET …/tasks: "limit … default 100, min 1, max 1000" (developer.allegro.pl, jak-zarzadzac-ofertami)


def command_id(channel_id: int, kind: str, value: Any, items: Iterable[tuple[int, int, int]]) -> str:
    """Deterministic per batch: the same (listing, version, attempt) triples and value give the same id."""
    pairs = ",".join(f"{listing}:{version}:{attempt}" for listing, version, attempt in sorted(items))
    return str(uuid.uuid5(COMMAND_NAMESPACE, f"{channel_id}|{kind}|{value}|{pairs}"))


@dataclass(frozen=True)
class CommandKind:
    path: str  # /sale/offer-quantity-change-commands
    buckets: tuple[str, ...]  # the rate-limit buckets charged per offer changed (per minute, per hour)
    label: str


QUANTITY = CommandKind("/sale/offer-quantity-change-commands", ("quantity_changes", "quantity_changes_hour"),
                       "quantity")
PRICE = CommandKind("/sale/offer-price-change-commands", ("price_changes", "price_changes_hour"), "price")
PUBLICATION = CommandKind("/sale/offer-publication-commands", (), "publication")


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
    """Sends one command and reads its per-offer outcome, through the connector's request helper (which takes a
    ``requests`` token per call; the caller has taken the offer-change tokens of the whole batch).

    Two requests per command when Allegro keeps pace: the ``PUT``, then — ``check_after`` seconds later, the time
    Allegro usually needs — one ``GET …/{commandId}/tasks?limit=1000`` (a page per 1,000 offers), whose task
    statuses are the outcome. Only offers still ``NEW`` are asked about again, every ``poll_interval`` (doubling)
    until ``timeout``; what is still unfinished then is answered as a retryable failure. The command summary
    (``GET …/{commandId}``) is never needed: the task report says everything it does, per offer."""

    def __init__(self, request: Callable[..., Any], *, check_after: float, poll_interval: float,
                 timeout: float) -> None:
        self.request = request  # async (method, path, json=None, params=None) -> httpx.Response
        self.check_after = check_after
        self.poll_interval = poll_interval
        self.timeout = timeout

    async def run(self, batch: CommandBatch) -> list[ItemResult]:
        path = f"{batch.kind.path}/{batch.command_id}"
        response = await self.request("PUT", path, json=batch.body())
        if response.status_code not in (200, 201, 409):  # 409: sent before; read what became of it
            answer = body_of(response)
            if response.status_code in (400, 422):
                return self._each(batch, ok=False, error=f"{batch.kind.label} command refused "
                                  f"({response.status_code}): {error_text(answer)}", answer=answer)
            raise ChannelRejected(f"{batch.kind.label} command: {response.status_code}", status=response.status_code,
                                  answer=answer)
        # a fresh command is still being processed: read its tasks once Allegro has usually done it; a 409's
        # command may be long done: read at once
        if response.status_code != 409 and self.check_after > 0:
            await asyncio.sleep(self.check_after)
        return await self._outcome(batch, path)

    async def _outcome(self, batch: CommandBatch, path: str) -> list[ItemResult]:
        deadline = time.monotonic() + self.timeout
        outcome: dict[str, dict[str, Any]] = {}
        pause = self.poll_interval
        while True:
            outcome.update(await self._tasks(path))
            waiting = [o for o in batch.listings if (outcome.get(o) or {}).get("status") not in ("SUCCESS", "FAIL")]
            if not waiting or time.monotonic() + pause > deadline:
                break
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
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
                                              answer={"command_id": batch.command_id}))
        return results

    async def _tasks(self, path: str) -> dict[str, dict[str, Any]]:
        """Offer id -> its task, every page of the command's task report."""
        outcome: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            response = await self.request("GET", f"{path}/tasks", params={"limit": TASK_PAGE, "offset": offset})
            if response.status_code == 404:  # not registered: Allegro has not seen the PUT
                raise ChannelUnavailable(f"command {path} not found after it was sent")
            tasks = body_of(response).get("tasks") or []
            for task in tasks:
                offer = (task.get("offer") or {}).get("id")
                if offer is not None:
                    outcome[str(offer)] = task
            if len(tasks) < TASK_PAGE:
                return outcome
            offset += len(tasks)

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
