"""let the demo's base url follow the served address

Revision ID: b41d7e9c2f58
Revises: 5cb57ca7f1a6
Create Date: 2026-12-07 15:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "b41d7e9c2f58"
down_revision = "5cb57ca7f1a6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("base_url_auto", sa.Boolean(), nullable=False, server_default="0")
        )
    # A demo set up before has the address of its first run: it follows the served one from now on.
    op.execute("UPDATE events SET base_url_auto = (slug = 'demo')")


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("base_url_auto")
