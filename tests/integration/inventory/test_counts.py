"""Count sheets (SQLite and PostgreSQL): snapshot, counting, auto-apply within the threshold, manager approval."""

from __future__ import annotations

import pytest

from omniretail.auth.schemas import Principal
from omniretail.inventory import counts, service
from omniretail.inventory.errors import WrongState
from omniretail.platform.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import create_location
from tests.integration.inventory.helpers import assert_invariants, create_variants


def _user(role: str, *location_ids: int) -> Principal:
    return Principal.build(user_id=1, email=f"{role}@example.com", role=role, location_ids=location_ids)


async def _on_hand(session, sku: str, location_id: int) -> int:
    items, _ = await service.list_levels(session, sku=sku, location_id=location_id)
    return items[0].on_hand if items else 0


@pytest.fixture
async def store(session):
    """A store with 10 × CS-A, 5 × CS-B; CS-C exists but was never stocked there."""
    loc = await create_location(session)
    await create_variants(session, "CS-A", "CS-B", "CS-C")
    await service.receive_stock(session, location_id=loc, lines=[("CS-A", 10), ("CS-B", 5)], actor="t")
    return loc


async def test_large_variance_waits_for_a_manager_and_approval_writes_count_movements(session, store):
    associate = _user("associate", store)
    sheet = await counts.create_count_sheet(session, location_id=store, actor=associate.label,
                                            scope=associate.location_ids, variance_threshold=2)
    assert [(x.sku, x.expected, x.counted) for x in sheet.lines] == [("CS-A", 10, None), ("CS-B", 5, None)]
    sheet = await counts.record_counts(session, sheet.id, lines=[("CS-A", 4), ("CS-C", 1)], actor="ana",
                                       scope=associate.location_ids)
    assert [(x.sku, x.variance, x.above_threshold) for x in sheet.lines] == [
        ("CS-A", -6, True), ("CS-B", None, False), ("CS-C", 1, False)]
    sheet = await counts.submit_count_sheet(session, sheet.id, actor="ana", scope=associate.location_ids)
    assert (sheet.state, sheet.needs_approval) == ("submitted", True)
    assert await _on_hand(session, "CS-A", store) == 10  # nothing moves before approval
    with pytest.raises(PermissionDenied):
        await counts.approve_count_sheet(session, sheet.id, approver=associate)
    await service.adjust_stock(session, location_id=store, lines=[("CS-A", -1)], reason="sold", actor="pos")
    approved = await counts.approve_count_sheet(session, sheet.id, approver=_user("manager"))
    assert approved.state == "approved" and approved.decided_by == "manager@example.com"
    # the variance is applied relative to the snapshot: the sale after counting is kept
    assert await _on_hand(session, "CS-A", store) == 3
    assert await _on_hand(session, "CS-B", store) == 5 and await _on_hand(session, "CS-C", store) == 1
    moves, _ = await service.list_movements(session, reference_type="count_sheet", reference_id=str(sheet.id))
    assert sorted((m.sku, m.kind, m.quantity) for m in moves) == [("CS-A", "count", -6), ("CS-C", "count", 1)]
    with pytest.raises(WrongState):
        await counts.approve_count_sheet(session, sheet.id, approver=_user("owner"))
    await assert_invariants(session)


async def test_small_variance_is_applied_on_submit(session, store):
    sheet = await counts.create_count_sheet(session, location_id=store, actor="t", skus=["CS-B"],
                                            variance_threshold=2)
    await counts.record_counts(session, sheet.id, lines=[("CS-B", 7)], actor="t")
    done = await counts.submit_count_sheet(session, sheet.id, actor="t")
    assert (done.state, done.needs_approval) == ("approved", False)
    assert await _on_hand(session, "CS-B", store) == 7
    with pytest.raises(WrongState):
        await counts.record_counts(session, sheet.id, lines=[("CS-B", 1)], actor="t")
    await assert_invariants(session)


async def test_rejection_discards_and_other_stores_are_not_found(session, store):
    other = await create_location(session)
    sheet = await counts.create_count_sheet(session, location_id=store, actor="t", variance_threshold=0)
    await counts.record_counts(session, sheet.id, lines=[("CS-A", 0)], actor="t")
    await counts.submit_count_sheet(session, sheet.id, actor="t")
    elsewhere = _user("associate", other)
    with pytest.raises(NotFound):
        await counts.get_count_sheet(session, sheet.id, scope=elsewhere.location_ids)
    with pytest.raises(NotFound):
        await counts.record_counts(session, sheet.id, lines=[("CS-A", 1)], actor="x", scope=elsewhere.location_ids)
    with pytest.raises(NotFound):
        await counts.create_count_sheet(session, location_id=store, actor="x", scope=elsewhere.location_ids)
    rejected = await counts.reject_count_sheet(session, sheet.id, approver=_user("admin"))
    assert rejected.state == "rejected"
    assert await _on_hand(session, "CS-A", store) == 10
    mine, _ = await counts.list_count_sheets(session, scope=elsewhere.location_ids)
    assert mine == []
    listed, _ = await counts.list_count_sheets(session, location_id=store, state="rejected")
    assert [(x.id, x.total_lines, x.counted_lines) for x in listed] == [(sheet.id, 2, 1)]


async def test_bad_input(session, store):
    empty = await create_location(session)
    with pytest.raises(InvalidInput):
        await counts.create_count_sheet(session, location_id=empty, actor="t")  # nothing stocked there
    with pytest.raises(InvalidInput):
        await counts.create_count_sheet(session, location_id=store, actor="t", skus=["NOPE"])
    sheet = await counts.create_count_sheet(session, location_id=store, actor="t")
    with pytest.raises(InvalidInput):
        await counts.submit_count_sheet(session, sheet.id, actor="t")  # nothing counted
    with pytest.raises(InvalidInput):
        await counts.record_counts(session, sheet.id, lines=[("CS-A", -1)], actor="t")
    with pytest.raises(InvalidInput):
        await counts.record_counts(session, sheet.id, lines=[("CS-A", 1), ("CS-A", 2)], actor="t")
