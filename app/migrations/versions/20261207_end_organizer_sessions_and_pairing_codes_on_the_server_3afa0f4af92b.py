"""end organizer sessions and pairing codes on the server

Revision ID: 3afa0f4af92b
Revises: 7d2f4b1c9e60
Create Date: 2026-12-07 06:21:47.000000
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "3afa0f4af92b"
down_revision = "7d2f4b1c9e60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "camera_pairings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_pairings")),
        sa.UniqueConstraint("name", name=op.f("uq_camera_pairings_name")),
    )
    op.create_table(
        "organizer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("seen_dt", app.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizers.id"],
            name=op.f("fk_organizer_sessions_organizer_id_organizers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizer_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_organizer_sessions_key_hash")),
    )
    with op.batch_alter_table("organizer_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organizer_sessions_organizer_id"), ["organizer_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("organizer_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizer_sessions_organizer_id"))

    op.drop_table("organizer_sessions")
    op.drop_table("camera_pairings")
