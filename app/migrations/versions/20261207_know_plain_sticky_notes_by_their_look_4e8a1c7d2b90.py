"""know plain sticky notes by their look

Revision ID: 4e8a1c7d2b90
Revises: 975a4d556b0c
Create Date: 2026-12-07 18:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "4e8a1c7d2b90"
down_revision = "975a4d556b0c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.alter_column("marker_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("plain", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("fingerprint", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("color", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("first_seen_dt", app.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("claim_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claim_code_dt", app.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("claim_code_expires_dt", app.models.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "note_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=True),
        sa.Column("waiting", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("picture_file", sa.String(length=100), nullable=True),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("seen_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("resolved_dt", app.models.UTCDateTime(), nullable=True),
        sa.Column("sticky_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_note_checks_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_note_checks_scan_id_scans"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_note_checks_room_id_rooms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slots.id"],
            name=op.f("fk_note_checks_slot_id_slots"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sticky_id"],
            ["stickies.id"],
            name=op.f("fk_note_checks_sticky_id_stickies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_checks")),
    )
    with op.batch_alter_table("note_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_note_checks_event_id"), ["event_id"], unique=False)


def downgrade():
    with op.batch_alter_table("note_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_checks_event_id"))
    op.drop_table("note_checks")
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        for column in (
            "claim_code_expires_dt",
            "claim_code_dt",
            "claim_code_hash",
            "first_seen_dt",
            "color",
            "fingerprint",
            "plain",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("marker_id", existing_type=sa.Integer(), nullable=False)
