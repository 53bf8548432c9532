"""``GET /api/v1/jobs/{id}``: a background job's state, progress and result (what the job page polls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from omniretail.auth.schemas import Principal
from omniretail.platform import background

from .deps import CurrentPrincipal, SessionDep
from .routing import TransactionalRoute

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=TransactionalRoute)


class JobRead(BaseModel):
    id: int
    kind: str
    state: str
    done: int
    total: int | None
    percent: int | None
    finished: bool
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


def owner_filter(principal: Principal) -> int | None:
    """Whose jobs a principal sees: everyone's with ``audit:read`` (owners, admins, managers, analysts), else
    only their own."""
    return None if principal.can("audit:read") else (principal.user_id or -1)


@router.get("/{job_id}", summary="A background job: state, progress (done of total) and result")
async def get_job(session: SessionDep, principal: CurrentPrincipal, job_id: int) -> JobRead:
    job = await background.get_job(session, job_id, user_id=owner_filter(principal))
    return JobRead.model_validate(job.as_dict())
