"""keep when a sticky was first missed

Revision ID: e5b7c0d2a914
Revises: cc57094ac79b
Create Date: 2026-12-07 15:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "e5b7c0d2a914"
down_revision = "cc57094ac79b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("missed_since_dt", app.models.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.drop_column("missed_since_dt")
