"""precomputed KPI rollups, an index of events by project and time, and a member's own hourly cost

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _project_fk() -> sa.ForeignKey:
    return sa.ForeignKey("projects.id", ondelete="CASCADE")


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    # The rollups start empty; the first KPI read of a project builds them from its events.
    op.create_table(
        "kpi_rollup_state",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("through_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_kpi_rollup_state")),
    )
    op.create_table(
        "kpi_cursors",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_kpi_cursors")),
    )
    op.create_table(
        "kpi_days",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("nudges_shown", sa.Integer(), nullable=False),
        sa.Column("nudges_followed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", "day", name=op.f("pk_kpi_days")),
    )
    op.create_table(
        "kpi_class_time",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", "label", name=op.f("pk_kpi_class_time")),
    )
    op.create_table(
        "kpi_action_time",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", "kind", name=op.f("pk_kpi_action_time")),
    )
    op.create_table(
        "kpi_task_time",
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", "task_id", name=op.f("pk_kpi_task_time")),
    )
    op.create_table(
        "kpi_task_shapes",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tracks", sa.Integer(), nullable=False),
        sa.Column("shapes", sa.Integer(), nullable=False),
        sa.Column("candidates_confirmed", sa.Integer(), nullable=False),
        sa.Column("tracks_drawn", sa.Integer(), nullable=False),
        sa.Column("stationary_tracks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "label", name=op.f("pk_kpi_task_shapes")),
    )
    op.create_index(op.f("ix_kpi_task_shapes_project_id"), "kpi_task_shapes", ["project_id"])
    op.create_table(
        "kpi_review_decisions",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), _project_fk(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_fk(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_kpi_review_decisions")),
    )
    op.create_index(op.f("ix_kpi_review_decisions_project_id"), "kpi_review_decisions", ["project_id"])
    op.create_index("ix_events_project_at", "events", ["project_id", "at"])
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hourly_cost_eur", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("hourly_cost_eur")
    op.drop_index("ix_events_project_at", table_name="events")
    op.drop_index(op.f("ix_kpi_review_decisions_project_id"), table_name="kpi_review_decisions")
    op.drop_table("kpi_review_decisions")
    op.drop_index(op.f("ix_kpi_task_shapes_project_id"), table_name="kpi_task_shapes")
    op.drop_table("kpi_task_shapes")
    op.drop_table("kpi_task_time")
    op.drop_table("kpi_action_time")
    op.drop_table("kpi_class_time")
    op.drop_table("kpi_days")
    op.drop_table("kpi_cursors")
    op.drop_table("kpi_rollup_state")
