"""count every change a live page shows

Revision ID: 975a4d556b0c
Revises: b41d7e9c2f58
Create Date: 2026-12-07 17:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "975a4d556b0c"
down_revision = "b41d7e9c2f58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("board_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("board_version")
