"""Customers: one profile per person across channels, matched by the channel's identity, the normalised e-mail
or the E.164 phone; merge and unmerge by staff.

Placing an order uses the three-step matching API (:func:`find_customer`, then :func:`ensure_identity` or
:func:`create_customer`): one read, and writes only for what is new, so the order hot path stays short.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import (
    BigInteger,
    bindparam,
    column,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput, NotFound
from omniretail.platform.i18n import normalise_locale
from omniretail.platform.outbox import append_event
from omniretail.platform.pagination import SortSpec, paginate

from .models import Customer, CustomerIdentity, CustomerMerge
from .normalise import identity_key, normalise_email, normalise_phone, phone_region
from .schemas import CustomerDetails

MERGED_TOPIC = "customers.merged"
UNMERGED_TOPIC = "customers.unmerged"
SORTS = SortSpec({"id": Customer.id, "name": Customer.name, "created_at": Customer.created_at}, default="-id")

# the orders package's table, as far as moving orders with their customer needs it (no import of its models)
_order_t = table("sales_order", column("id", BigInteger), column("customer_id", BigInteger),
                 column("customer_identity_id", BigInteger))
_C, _I = Customer.__table__, CustomerIdentity.__table__
_CHANNELS = table("channel", column("id"))  # the channels package's table, read for its ids only


def _insert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


# --- matching (the order hot path) ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """The outcome of matching an order's buyer: the profile found (None: a new one is needed) and the
    channel identity found (None: a new one is needed when there is a key)."""

    customer_id: int | None
    identity_id: int | None
    key: str | None
    name: str
    email: str | None
    phone: str | None
    locale: str
    marketing_consent: bool
    matched_by: str  # identity | email | phone | new | none
    fill: bool = False  # the found profile lacks the e-mail or phone this order brings

    @property
    def anonymous(self) -> bool:
        return self.key is None


def normalised(details: CustomerDetails | None, *, default_locale: str, region: str | None = None) -> dict:
    """``region``: where a phone number without its country code is from (default: by ``default_locale``)."""
    details = details or CustomerDetails()
    email = normalise_email(details.email)
    phone = normalise_phone(details.phone, region or phone_region(locale=default_locale))
    return {"name": details.name.strip(), "email": email, "phone": phone,
            "locale": normalise_locale(details.locale or default_locale),
            "marketing_consent": bool(details.marketing_consent),
            "key": identity_key(details.external_id, email, phone)}


def _match_statement(by_email: bool, by_phone: bool):
    """The channel identity (rank 0), else live profiles with the e-mail (1) or the phone (2)."""
    parts = [select(_I.c.customer_id.label("cid"), _I.c.id.label("iid"), literal(0).label("rank"),
                    _C.c.email, _C.c.phone)
             .select_from(_I.join(_C, _C.c.id == _I.c.customer_id))
             .where(_I.c.channel_id == bindparam("channel_id"), _I.c.external_id == bindparam("key"))]
    for rank, name, wanted in ((1, "email", by_email), (2, "phone", by_phone)):
        if wanted:
            parts.append(select(_C.c.id, null().cast(BigInteger), literal(rank),
                                _C.c.email, _C.c.phone)
                         .where(_C.c[name] == bindparam(name), _C.c.merged_into_id.is_(None)))
    return union_all(*parts)


# built once (the order hot path): keyed by (has an e-mail, has a phone)
_MATCH = {(e, p): _match_statement(e, p) for e in (False, True) for p in (False, True)}


# The same match in plain SQL, for a hot path that reads it within a larger statement (PostgreSQL); an e-mail
# or phone that is NULL matches nothing. Columns: cid, iid, rank, email, phone.
MATCH_SQL = """
SELECT ci.customer_id AS cid, ci.id AS iid, 0 AS rank, c.email, c.phone
  FROM customer_identity ci JOIN customer c ON c.id = ci.customer_id
 WHERE ci.channel_id = :channel_id AND ci.external_id = :key
UNION ALL
SELECT c.id, NULL, 1, c.email, c.phone FROM customer c WHERE c.email = :email AND c.merged_into_id IS NULL
UNION ALL
SELECT c.id, NULL, 2, c.email, c.phone FROM customer c WHERE c.phone = :phone AND c.merged_into_id IS NULL"""


def match_request(details: CustomerDetails | None, *, channel_id: int, default_locale: str = "en",
                  region: str | None = None) -> tuple[CustomerMatch, dict | None]:
    """The buyer normalised (a match that found nothing yet) and the parameters of the match statement
    (None: an anonymous buyer, nothing to match)."""
    d = normalised(details, default_locale=default_locale, region=region)
    base = CustomerMatch(None, None, d["key"], d["name"], d["email"], d["phone"], d["locale"],
                         d["marketing_consent"], "none" if d["key"] is None else "new")
    if d["key"] is None:
        return base, None
    return base, {"channel_id": channel_id, "key": d["key"], "email": d["email"], "phone": d["phone"]}


def pick_match(base: CustomerMatch, rows) -> CustomerMatch:
    """The best of the match statement's rows (cid, iid, rank, email, phone): the channel identity, else the
    oldest live profile with the e-mail, else with the phone."""
    if not rows:
        return base
    cid, iid, rank, email, phone = min(((r[0], r[1], r[2], r[3], r[4]) for r in rows), key=lambda r: (r[2], r[0]))
    fill = bool((base.email and not email) or (base.phone and not phone))
    return replace(base, customer_id=cid, identity_id=iid, fill=fill, matched_by=("identity", "email", "phone")[rank])


async def find_customer(session: AsyncSession, *, channel_id: int, details: CustomerDetails | None,
                        default_locale: str = "en", region: str | None = None) -> CustomerMatch:
    """One statement: the channel identity, else the oldest live profile with the e-mail, else the phone."""
    base, params = match_request(details, channel_id=channel_id, default_locale=default_locale, region=region)
    if params is None:
        return base
    stmt = _MATCH[bool(base.email), bool(base.phone)]
    return pick_match(base, [(r.cid, r.iid, r.rank, r.email, r.phone)
                             for r in (await session.execute(stmt, params)).all()])


def new_rows(match: CustomerMatch, *, channel_id: int, customer_id: int | None, identity_id: int | None,
             at) -> tuple[dict | None, dict | None]:
    """The profile and channel identity rows a hot path writes itself for a match that found none (ids taken
    from the sequences): (customer or None, identity or None)."""
    if match.key is None or match.fill:
        return None, None
    customer = None
    if match.customer_id is None:
        customer = {"id": customer_id, "name": match.name, "email": match.email, "phone": match.phone,
                    "locale": match.locale, "marketing_consent": match.marketing_consent, "created_at": at,
                    "updated_at": at}
    identity = None
    if match.identity_id is None:
        identity = {"id": identity_id, "customer_id": match.customer_id or customer_id, "channel_id": channel_id,
                    "external_id": match.key, "email": match.email, "phone": match.phone, "created_at": at}
    return customer, identity


async def ensure_identity(session: AsyncSession, *, match: CustomerMatch, channel_id: int) -> CustomerMatch:
    """For a found profile: record the channel identity if it is new, and fill a missing e-mail/phone."""
    if match.customer_id is None or match.key is None:
        return match
    if match.fill:
        await session.execute(update(Customer).where(Customer.id == match.customer_id).values(
            email=func.coalesce(Customer.email, match.email), phone=func.coalesce(Customer.phone, match.phone)))
    if match.identity_id is not None:
        return match
    identity_id = await _insert_identity(session, customer_id=match.customer_id, channel_id=channel_id,
                                         match=match)
    if identity_id is None:  # recorded meanwhile by a concurrent order of the same buyer
        row = await _identity(session, channel_id, match.key)
        return replace(match, customer_id=row.customer_id, identity_id=row.id)
    return replace(match, identity_id=identity_id)


async def create_customer(session: AsyncSession, *, match: CustomerMatch, channel_id: int) -> CustomerMatch:
    """A new profile and its first identity (for a match that found none)."""
    if match.key is None or match.customer_id is not None:
        return match
    now = clock.now()
    customer_id = (await session.execute(insert(_C).values(
        name=match.name, email=match.email, phone=match.phone, locale=match.locale,
        marketing_consent=match.marketing_consent, created_at=now, updated_at=now).returning(_C.c.id))).scalar_one()
    identity_id = await _insert_identity(session, customer_id=customer_id, channel_id=channel_id, match=match)
    if identity_id is None:  # the same new buyer ordered twice at once: keep the profile the other made
        await session.execute(delete(_C).where(_C.c.id == customer_id))
        row = await _identity(session, channel_id, match.key)
        return replace(match, customer_id=row.customer_id, identity_id=row.id, matched_by="identity")
    return replace(match, customer_id=customer_id, identity_id=identity_id)


async def discard_new_customer(session: AsyncSession, customer_id: int) -> None:
    """Undo :func:`create_customer` in the same transaction (the order it was made for turned out to be a
    duplicate); its identities go with it."""
    await session.execute(delete(_C).where(_C.c.id == customer_id))


async def _insert_identity(session: AsyncSession, *, customer_id: int, channel_id: int,
                           match: CustomerMatch) -> int | None:
    stmt = (_insert(session)(_I).values(customer_id=customer_id, channel_id=channel_id, external_id=match.key,
                                        email=match.email, phone=match.phone, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["channel_id", "external_id"]).returning(_I.c.id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def _identity(session: AsyncSession, channel_id: int, key: str):
    return (await session.execute(select(_I.c.id, _I.c.customer_id).where(
        _I.c.channel_id == channel_id, _I.c.external_id == key))).one()


# --- reading --------------------------------------------------------------------------------------------

async def record_consent(session: AsyncSession, *, customer_id: int, consent: bool) -> bool:
    """The buyer answered the marketing question again (with an order, or staff on their word): the profile
    follows at once — a withdrawal above all. True when it changed."""
    changed = await session.execute(update(_C).where(_C.c.id == customer_id,
                                                     _C.c.marketing_consent.is_distinct_from(consent))
                                    .values(marketing_consent=consent, updated_at=clock.now()).returning(_C.c.id))
    return changed.first() is not None


async def update_customer(session: AsyncSession, customer_id: int, *, changes: dict) -> Customer:
    """Staff correct a profile's name or language, or record the customer's marketing answer."""
    customer = await get_customer(session, customer_id)
    if customer.merged_into_id is not None:
        raise Conflict(f"customer {customer_id} was merged into {customer.merged_into_id}; change that profile",
                       merged_into_id=customer.merged_into_id)
    if "locale" in changes:
        changes["locale"] = normalise_locale(changes["locale"])
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.updated_at = clock.now()
    await session.flush()
    return customer


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


async def identities_of(session: AsyncSession, customer_id: int) -> list[CustomerIdentity]:
    rows = await session.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
                                 .order_by(CustomerIdentity.id))
    return list(rows.all())


async def order_count(session: AsyncSession, customer_id: int) -> int:
    stmt = select(func.count()).select_from(_order_t).where(_order_t.c.customer_id == customer_id)
    return int((await session.execute(stmt)).scalar_one())


async def customer_ids_by_email(session: AsyncSession, email: str) -> list[int]:
    """Profiles known by this e-mail: their own, or one an order came with. A buyer matched to a profile by
    phone keeps the profile's e-mail, and the order's e-mail is the key of its channel identity
    (``normalise.identity_key``): looked up channel by channel, on the (channel, key) unique index."""
    wanted = normalise_email(email)
    if wanted is None:
        return []
    key = identity_key(None, wanted, None)
    by_key = (select(CustomerIdentity.customer_id)
              .where(CustomerIdentity.channel_id.in_(select(_CHANNELS.c.id)), CustomerIdentity.external_id == key))
    found = await session.scalars(select(Customer.id).where(Customer.email == wanted).union(by_key))
    return sorted(set(found.all()))


async def list_customers(session: AsyncSession, *, q: str | None = None, email: str | None = None,
                         phone: str | None = None, include_merged: bool = False, cursor: str | None = None,
                         limit: int = 50, sort: str | None = None) -> tuple[list[Customer], str | None]:
    stmt = select(Customer)
    if not include_merged:
        stmt = stmt.where(Customer.merged_into_id.is_(None))
    if email is not None:
        stmt = stmt.where(Customer.email == normalise_email(email))
    if phone is not None:
        normal = normalise_phone(phone)
        if normal is None:
            raise InvalidInput(f"{phone!r} is not a phone number", field="phone")
        stmt = stmt.where(Customer.phone == normal)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Customer.name).like(like), Customer.email.like(like),
                              Customer.phone.like(f"%{q.strip()}%")))
    return await paginate(session, stmt, id_column=Customer.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


# --- merge and unmerge ------------------------------------------------------------------------------------

_PROFILE_FIELDS = ("name", "email", "phone")


async def merge_customers(session: AsyncSession, *, target_id: int, source_id: int, actor: str,
                          reason: str = "") -> CustomerMerge:
    """Merge ``source`` into ``target``: identities and orders move, the target takes what it lacks."""
    if target_id == source_id:
        raise InvalidInput("cannot merge a customer into itself", field="source_customer_id")
    target, source = await get_customer(session, target_id), await get_customer(session, source_id)
    for who in (target, source):
        if who.merged_into_id is not None:
            raise Conflict(f"customer {who.id} was already merged into {who.merged_into_id}",
                           customer_id=who.id, merged_into_id=who.merged_into_id)
    identity_ids = sorted((await session.scalars(
        select(_I.c.id).where(_I.c.customer_id == source.id))).all())
    order_ids = sorted((await session.scalars(
        select(_order_t.c.id).where(_order_t.c.customer_id == source.id))).all())
    await session.execute(update(_I).where(_I.c.customer_id == source.id).values(customer_id=target.id))
    await session.execute(update(_order_t).where(_order_t.c.customer_id == source.id)
                          .values(customer_id=target.id))
    before = {name: getattr(target, name) for name in _PROFILE_FIELDS}
    for name in _PROFILE_FIELDS:
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
    source.merged_into_id = target.id
    merge = CustomerMerge(source_customer_id=source.id, target_customer_id=target.id, identity_ids=identity_ids,
                          order_ids=order_ids, target_before=before, merged_at=clock.now(), merged_by=actor,
                          reason=reason)
    session.add(merge)
    await session.flush()
    await append_event(session, MERGED_TOPIC, {"merge_id": merge.id, "source_customer_id": source.id,
                                               "target_customer_id": target.id, "order_ids": order_ids})
    return merge


async def get_merge(session: AsyncSession, merge_id: int) -> CustomerMerge:
    merge = await session.get(CustomerMerge, merge_id)
    if merge is None:
        raise NotFound(f"customer merge {merge_id} not found")
    return merge


async def merges_of(session: AsyncSession, customer_id: int) -> list[CustomerMerge]:
    rows = await session.scalars(select(CustomerMerge).where(or_(
        CustomerMerge.source_customer_id == customer_id, CustomerMerge.target_customer_id == customer_id))
        .order_by(CustomerMerge.id))
    return list(rows.all())


async def unmerge_customers(session: AsyncSession, *, merge_id: int, actor: str) -> CustomerMerge:
    """Undo a merge: the source profile comes back with its identities and every order that came through
    them (also those placed after the merge), and the target loses what it took from the source."""
    merge = await get_merge(session, merge_id)
    if merge.unmerged_at is not None:
        raise Conflict(f"merge {merge_id} was already undone", merge_id=merge_id)
    source, target = (await get_customer(session, merge.source_customer_id),
                      await get_customer(session, merge.target_customer_id))
    identity_ids, order_ids = list(merge.identity_ids), list(merge.order_ids)
    if identity_ids:
        await session.execute(update(_I).where(_I.c.id.in_(identity_ids)).values(customer_id=source.id))
    moved = []
    if identity_ids:
        moved.append(_order_t.c.customer_identity_id.in_(identity_ids))
    if order_ids:
        moved.append(_order_t.c.id.in_(order_ids))
    if moved:
        await session.execute(update(_order_t).where(or_(*moved)).values(customer_id=source.id))
    for name in _PROFILE_FIELDS:
        if merge.target_before.get(name) != getattr(target, name) and not merge.target_before.get(name):
            setattr(target, name, merge.target_before.get(name) or ("" if name == "name" else None))
    source.merged_into_id = None
    merge.unmerged_at, merge.unmerged_by = clock.now(), actor
    await session.flush()
    await append_event(session, UNMERGED_TOPIC, {"merge_id": merge.id, "source_customer_id": source.id,
                                                 "target_customer_id": target.id})
    return merge
