"""say whether a board has plain notes

Revision ID: 6b1f0c3e9d27
Revises: 4e8a1c7d2b90
Create Date: 2026-12-07 19:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "6b1f0c3e9d27"
down_revision = "4e8a1c7d2b90"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plain_notes", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("plain_notes")
