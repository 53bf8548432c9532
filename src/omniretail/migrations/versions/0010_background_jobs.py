"""background jobs: long operations run by the worker, with progress and a result

Revision ID: 0010_background_jobs
Revises: 0002
Create Date: 2026-11-23 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniretail.platform.models

revision = "0010_background_jobs"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "background_job",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("started_at", UTC(timezone=True), nullable=True),
        sa.Column("finished_at", UTC(timezone=True), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_job")),
    )
    op.create_index("ix_background_job_state", "background_job", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_background_job_state", table_name="background_job")
    op.drop_table("background_job")
