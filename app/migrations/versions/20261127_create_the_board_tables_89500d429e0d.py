"""create the board tables

Revision ID: 89500d429e0d
Revises:
Create Date: 2026-11-27 02:30:07.644470
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "89500d429e0d"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("last_used_dt", app.models.UTCDateTime(), nullable=True),
        sa.Column("revoked_dt", app.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("loaded_dt", app.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("slug", name=op.f("uq_events_slug")),
    )
    op.create_table(
        "organizers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizers")),
        sa.UniqueConstraint("username", name=op.f("uq_organizers_username")),
    )
    op.create_table(
        "print_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("paper", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_print_batches_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batches")),
    )
    with op.batch_alter_table("print_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_print_batches_event_id"), ["event_id"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_rooms_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("event_id", "marker_id", name=op.f("uq_rooms_event_id_marker_id")),
        sa.UniqueConstraint("event_id", "name", name=op.f("uq_rooms_event_id_name")),
    )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rooms_event_id"), ["event_id"], unique=False)

    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("client_scan_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("board_found", sa.Boolean(), nullable=False),
        sa.Column("observations", sa.JSON(), nullable=False),
        sa.Column("image_path", sa.String(length=300), nullable=True),
        sa.Column("received_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("undone_dt", app.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_scans_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
        sa.UniqueConstraint(
            "event_id", "client_scan_id", name=op.f("uq_scans_event_id_client_scan_id")
        ),
    )
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scans_event_id"), ["event_id"], unique=False)

    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("start_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("end_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_slots_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("event_id", "marker_id", name=op.f("uq_slots_event_id_marker_id")),
        sa.UniqueConstraint("event_id", "start_dt", name=op.f("uq_slots_event_id_start_dt")),
    )
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slots_event_id"), ["event_id"], unique=False)

    op.create_table(
        "stickies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.Column("claimed_dt", app.models.UTCDateTime(), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("host", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.String(length=300), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("contact_public", sa.Boolean(), nullable=False),
        sa.Column("links", sa.String(length=500), nullable=True),
        sa.Column("edit_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("board_status", sa.String(length=16), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("placed_dt", app.models.UTCDateTime(), nullable=True),
        sa.Column("missed_scans", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["print_batches.id"], name=op.f("fk_stickies_batch_id_print_batches")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_stickies_event_id_events")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_stickies_room_id_rooms")),
        sa.ForeignKeyConstraint(["slot_id"], ["slots.id"], name=op.f("fk_stickies_slot_id_slots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stickies")),
        sa.UniqueConstraint("code", name=op.f("uq_stickies_code")),
        sa.UniqueConstraint("event_id", "marker_id", name=op.f("uq_stickies_event_id_marker_id")),
    )
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stickies_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stickies_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stickies_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stickies_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sticky_id", sa.Integer(), nullable=False),
        sa.Column("browser_id", sa.String(length=64), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sticky_id"], ["stickies.id"], name=op.f("fk_interests_sticky_id_stickies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interests")),
        sa.UniqueConstraint(
            "sticky_id", "browser_id", name=op.f("uq_interests_sticky_id_browser_id")
        ),
    )
    with op.batch_alter_table("interests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interests_sticky_id"), ["sticky_id"], unique=False)

    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sticky_id", sa.Integer(), nullable=False),
        sa.Column("from_room_id", sa.Integer(), nullable=True),
        sa.Column("from_slot_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_room_id", sa.Integer(), nullable=True),
        sa.Column("to_slot_id", sa.Integer(), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_room_id"],
            ["rooms.id"],
            name=op.f("fk_placements_from_room_id_rooms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_slot_id"],
            ["slots.id"],
            name=op.f("fk_placements_from_slot_id_slots"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_placements_scan_id_scans")
        ),
        sa.ForeignKeyConstraint(
            ["sticky_id"], ["stickies.id"], name=op.f("fk_placements_sticky_id_stickies")
        ),
        sa.ForeignKeyConstraint(
            ["to_room_id"],
            ["rooms.id"],
            name=op.f("fk_placements_to_room_id_rooms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_slot_id"],
            ["slots.id"],
            name=op.f("fk_placements_to_slot_id_slots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placements_scan_id"), ["scan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_sticky_id"), ["sticky_id"], unique=False)


def downgrade():
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_sticky_id"))
        batch_op.drop_index(batch_op.f("ix_placements_scan_id"))

    op.drop_table("placements")
    with op.batch_alter_table("interests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interests_sticky_id"))

    op.drop_table("interests")
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stickies_slot_id"))
        batch_op.drop_index(batch_op.f("ix_stickies_room_id"))
        batch_op.drop_index(batch_op.f("ix_stickies_event_id"))
        batch_op.drop_index(batch_op.f("ix_stickies_batch_id"))

    op.drop_table("stickies")
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slots_event_id"))

    op.drop_table("slots")
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scans_event_id"))

    op.drop_table("scans")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rooms_event_id"))

    op.drop_table("rooms")
    with op.batch_alter_table("print_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_print_batches_event_id"))

    op.drop_table("print_batches")
    op.drop_table("organizers")
    op.drop_table("events")
    op.drop_table("api_tokens")
