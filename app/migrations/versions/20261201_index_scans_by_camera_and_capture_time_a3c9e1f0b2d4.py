"""index scans by camera and capture time

Revision ID: a3c9e1f0b2d4
Revises: 28814c2a3d27
Create Date: 2026-12-01 16:45:00.000000
"""

from alembic import op

revision = "a3c9e1f0b2d4"
down_revision = "28814c2a3d27"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scans_event_source_captured", ["event_id", "source", "captured_dt"], unique=False
        )


def downgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_event_source_captured")
