"""camera-only (2D) tracks of a layer

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracks_2d",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("camera", sa.String(length=80), nullable=False),
        sa.Column("boxes", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("provenance_kind", sa.String(length=20), nullable=False),
        sa.Column("provenance_source", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"], ["layers.id"], name=op.f("fk_tracks_2d_layer_id_layers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks_2d")),
    )
    with op.batch_alter_table("tracks_2d", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracks_2d_layer_id"), ["layer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracks_2d", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracks_2d_layer_id"))
    op.drop_table("tracks_2d")
