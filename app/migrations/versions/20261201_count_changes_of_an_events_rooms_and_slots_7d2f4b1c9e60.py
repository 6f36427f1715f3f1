"""count changes of an event's rooms and slots

Revision ID: 7d2f4b1c9e60
Revises: a3c9e1f0b2d4
Create Date: 2026-12-01 20:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "7d2f4b1c9e60"
down_revision = "a3c9e1f0b2d4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("layout_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("layout_version")
