"""how far a scene's lidar sees objects (and its dataset labels them)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Scenes imported before stay without a range: the tools' default applies to them, as it did.
    with op.batch_alter_table("sensors") as batch:
        batch.add_column(sa.Column("range_m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sensors") as batch:
        batch.drop_column("range_m")
