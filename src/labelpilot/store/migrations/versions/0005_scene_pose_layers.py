"""ego pose layers of a scene (corrected trajectories beside the imported poses)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Starts empty: every scene keeps its imported poses active until a correction is estimated.
    op.create_table(
        "scene_pose_layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("poses", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scene_id"], ["scenes.id"], name=op.f("fk_scene_pose_layers_scene_id_scenes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scene_pose_layers")),
        sa.UniqueConstraint("scene_id", "name", name=op.f("uq_scene_pose_layers_scene_id")),
    )
    op.create_index(op.f("ix_scene_pose_layers_scene_id"), "scene_pose_layers", ["scene_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scene_pose_layers_scene_id"), table_name="scene_pose_layers")
    op.drop_table("scene_pose_layers")
