"""project settings for the KPIs: hourly cost and whether peers are shown by name

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill the rows of existing projects (and keep NOT NULL valid on both backends).
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hourly_cost_eur", sa.Float(), server_default=sa.text("25.0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("show_peer_names", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("show_peer_names")
        batch_op.drop_column("hourly_cost_eur")
