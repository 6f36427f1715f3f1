"""keep when each scan was captured

Revision ID: 28814c2a3d27
Revises: 54d75b5205af
Create Date: 2026-12-01 15:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "28814c2a3d27"
down_revision = "54d75b5205af"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_dt", app.models.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("captured_dt")
