"""Price lists and the effective price of a variant on a channel.

Who sees what: a principal scoped to channels (an integration) or to stores (an associate, through the
channels their stores fulfil) sees the price lists of those channels and the shared lists; it may change
only its channels' lists. Price rows are written in ``prices.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Variant
from omniretail.channels import service as channels_service
from omniretail.platform import external_refs, money
from omniretail.platform.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from omniretail.platform.outbox import append_event
from omniretail.platform.pagination import SortSpec, paginate

from . import rules
from .models import Price, PriceList
from .schemas import PriceCandidateRead, PriceListCreate, PriceListRead, PriceListUpdate, PriceResolutionRead

PRICE_CHANGED = "pricing.price.changed"
SORTS = SortSpec({"id": PriceList.id, "code": PriceList.code, "priority": PriceList.priority})
# Changing these on a list changes the effective price of every variant it holds.
RESOLUTION_FIELDS = ("priority", "valid_from", "valid_to", "is_active", "prices_include_tax")


# --- visibility ----------------------------------------------------------------------------------------

async def get_price_list(session: AsyncSession, price_list_id: int, *, principal: Principal) -> PriceList:
    """A price list the principal may see; others are reported as not found."""
    price_list = await session.get(PriceList, price_list_id)
    if price_list is None:
        raise NotFound(f"price list {price_list_id} not found")
    visible = await channels_service.visible_channel_ids(session, principal)
    if visible is not None and price_list.channel_id is not None and price_list.channel_id not in visible:
        raise NotFound(f"price list {price_list_id} not found")
    return price_list


async def writable_price_list(
    session: AsyncSession, price_list_id: int, *, principal: Principal
) -> PriceList:
    price_list = await get_price_list(session, price_list_id, principal=principal)
    if principal.channel_ids is not None or principal.location_ids is not None:
        visible = await channels_service.visible_channel_ids(session, principal) or frozenset()
        if price_list.channel_id not in visible:
            raise PermissionDenied("you may change prices only in your channels' price lists")
    return price_list


async def variant_ids_by_sku(session: AsyncSession, skus: set[str]) -> dict[str, int]:
    if not skus:
        return {}
    rows = await session.execute(select(Variant.sku, Variant.id).where(Variant.sku.in_(skus)))
    return {sku: variant_id for sku, variant_id in rows}


async def require_variant_id(session: AsyncSession, sku: str) -> int:
    found = (await variant_ids_by_sku(session, {sku})).get(sku)
    if found is None:
        raise NotFound(f"no variant with SKU {sku!r}", sku=sku)
    return found


# --- price lists -----------------------------------------------------------------------------------------

async def to_read(session: AsyncSession, price_lists: list[PriceList]) -> list[PriceListRead]:
    refs = await external_refs.references_of(session, entity="price_list",
                                             entity_ids=[p.id for p in price_lists])
    return [
        PriceListRead(
            id=p.id, code=p.code, name=p.name, channel_id=p.channel_id, currency=p.currency,
            prices_include_tax=p.prices_include_tax, priority=p.priority, valid_from=p.valid_from,
            valid_to=p.valid_to, is_active=p.is_active, external_refs=refs.get(p.id, {}),
            created_at=p.created_at, updated_at=p.updated_at,
        )
        for p in price_lists
    ]


async def list_price_lists(
    session: AsyncSession, *, principal: Principal, channel_id: int | None = None,
    currency: str | None = None, cursor: str | None = None, limit: int = 50, sort: str | None = None,
) -> tuple[list[PriceList], str | None]:
    stmt = select(PriceList)
    visible = await channels_service.visible_channel_ids(session, principal)
    if visible is not None:
        stmt = stmt.where(or_(PriceList.channel_id.in_(visible), PriceList.channel_id.is_(None)))
    if channel_id is not None:
        stmt = stmt.where(PriceList.channel_id == channel_id)
    if currency:
        stmt = stmt.where(PriceList.currency == currency.upper())
    return await paginate(session, stmt, id_column=PriceList.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


async def _list_changed(session: AsyncSession, price_list: PriceList, fields: list[str]) -> None:
    await append_event(session, PRICE_CHANGED, {
        "scope": "price_list", "price_list_id": price_list.id, "price_list_code": price_list.code,
        "channel_id": price_list.channel_id, "currency": price_list.currency, "changed": sorted(fields),
    }, coalesce_key=f"price_list:{price_list.id}")


async def create_price_list(
    session: AsyncSession, *, data: PriceListCreate, principal: Principal
) -> PriceList:
    channel = None
    if data.channel_id is not None:
        try:
            channel = await channels_service.get_channel(session, data.channel_id, principal=principal)
        except NotFound:
            raise InvalidInput(f"unknown channel {data.channel_id}", field="channel_id") from None
    elif principal.channel_ids is not None or principal.location_ids is not None:
        raise PermissionDenied("you may create price lists only for your channels", field="channel_id")
    currency = data.currency or (channel.currency if channel else None)
    if currency is None:
        raise InvalidInput("a shared price list needs a currency", field="currency")
    if channel is not None and currency != channel.currency:
        raise InvalidInput(f"channel {channel.code} sells in {channel.currency}, not {currency}",
                           field="currency")
    if (await session.execute(select(PriceList.id).where(PriceList.code == data.code))).first():
        raise AlreadyExists(f"price list code {data.code!r} is taken", field="code")
    include_tax = data.prices_include_tax
    if include_tax is None:
        include_tax = channel.prices_include_tax if channel else True
    price_list = PriceList(
        code=data.code, name=data.name, channel_id=data.channel_id, currency=currency,
        prices_include_tax=include_tax, priority=data.priority, valid_from=data.valid_from,
        valid_to=data.valid_to, is_active=data.is_active,
    )
    session.add(price_list)
    await session.flush()
    for source, ref in data.external_refs.items():
        await external_refs.set_reference(session, entity="price_list", entity_id=price_list.id,
                                          source=source, reference=ref)
    return price_list


async def update_price_list(
    session: AsyncSession, price_list_id: int, *, data: PriceListUpdate, principal: Principal
) -> PriceList:
    price_list = await writable_price_list(session, price_list_id, principal=principal)
    changes = data.model_dump(exclude_unset=True, exclude={"external_refs"})
    for name in ("name", "prices_include_tax", "priority", "is_active"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    try:
        rules.check_window(changes.get("valid_from", price_list.valid_from),
                           changes.get("valid_to", price_list.valid_to))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="valid_to") from None
    changed = [name for name, value in changes.items() if getattr(price_list, name) != value]
    for name in changed:
        setattr(price_list, name, changes[name])
    for source, ref in (data.external_refs or {}).items():
        await external_refs.set_reference(session, entity="price_list", entity_id=price_list.id,
                                          source=source, reference=ref)
    await session.flush()
    await session.refresh(price_list)
    resolution_changes = [name for name in changed if name in RESOLUTION_FIELDS]
    if resolution_changes:
        await _list_changed(session, price_list, resolution_changes)
    return price_list


# --- the effective price ------------------------------------------------------------------------------

def _candidate_read(considered: rules.Considered) -> PriceCandidateRead:
    c, row = considered.candidate, considered.candidate.price
    return PriceCandidateRead(
        price_list_id=c.id, price_list_code=c.code, scope="shared" if c.channel_id is None else "channel",
        priority=c.priority, currency=c.currency, list_valid_from=c.valid_from, list_valid_to=c.valid_to,
        price_id=row.id if row else None,
        amount=money.from_minor(row.amount_minor, c.currency) if row else None,
        price_valid_from=row.valid_from if row else None, price_valid_to=row.valid_to if row else None,
        verdict=considered.verdict,
    )


async def resolve_channel_price(
    session: AsyncSession, channel_id: int, sku: str, *, at: datetime, principal: Principal
) -> PriceResolutionRead:
    """The price ``sku`` has on a channel at ``at``, with every list considered and why it won or lost."""
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    variant_id = await require_variant_id(session, sku)
    rows = await session.execute(
        select(PriceList, Price)
        .outerjoin(Price, and_(Price.price_list_id == PriceList.id, Price.variant_id == variant_id))
        .where(or_(PriceList.channel_id == channel.id,
                   and_(PriceList.channel_id.is_(None), PriceList.currency == channel.currency)))
    )
    candidates = [
        rules.ListCandidate(
            id=pl.id, code=pl.code, priority=pl.priority, currency=pl.currency, channel_id=pl.channel_id,
            is_active=pl.is_active, valid_from=pl.valid_from, valid_to=pl.valid_to,
            prices_include_tax=pl.prices_include_tax,
            price=rules.PriceRow(id=p.id, amount_minor=p.amount_minor, compare_at_minor=p.compare_at_minor,
                                 valid_from=p.valid_from, valid_to=p.valid_to) if p else None,
        )
        for pl, p in rows
    ]
    resolution = rules.resolve_price(candidates, currency=channel.currency, at=at)
    considered = [_candidate_read(c) for c in resolution.considered]
    winner = resolution.winner
    if winner is None or winner.price is None:
        raise NotFound(f"no price for SKU {sku!r} on channel {channel.code} at {at.isoformat()}",
                       sku=sku, channel_id=channel.id, at=at.isoformat(),
                       candidates=[c.model_dump(mode="json") for c in considered])
    row = winner.price
    return PriceResolutionRead(
        channel_id=channel.id, sku=sku, variant_id=variant_id, at=at, currency=channel.currency,
        amount=money.from_minor(row.amount_minor, channel.currency),
        compare_at=None if row.compare_at_minor is None else money.from_minor(row.compare_at_minor,
                                                                              channel.currency),
        prices_include_tax=winner.prices_include_tax, price_list_id=winner.id, price_list_code=winner.code,
        price_id=row.id, candidates=considered,
    )
