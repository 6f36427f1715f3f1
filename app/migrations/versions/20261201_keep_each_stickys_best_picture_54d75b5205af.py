"""keep each sticky's best picture and a suggested title

Revision ID: 54d75b5205af
Revises: 89500d429e0d
Create Date: 2026-12-01 15:39:58.363668
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "54d75b5205af"
down_revision = "89500d429e0d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("picture_file", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("picture_quality", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("picture_score", sa.JSON(), nullable=True))
        # Existing stickies have no picture: zero bytes.
        batch_op.add_column(
            sa.Column("picture_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("picture_dt", app.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("suggested_title", sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table("stickies", schema=None) as batch_op:
        batch_op.drop_column("suggested_title")
        batch_op.drop_column("picture_dt")
        batch_op.drop_column("picture_bytes")
        batch_op.drop_column("picture_score")
        batch_op.drop_column("picture_quality")
        batch_op.drop_column("picture_file")
