"""print a claim key on every sticky

Revision ID: 0dfe2d671c78
Revises: 3afa0f4af92b
Create Date: 2026-12-07 06:49:06.947762
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0dfe2d671c78"
down_revision = "3afa0f4af92b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_secret", sa.String(length=64), nullable=True))
    # Each event gets a secret of its own. Its stickies were printed without keys: until they are
    # printed again (`openspaces print batch N`) nobody holds their keys, and organizers claim them.
    events = sa.table("events", sa.column("id", sa.Integer), sa.column("claim_secret", sa.String))
    connection = op.get_bind()
    for (event_id,) in connection.execute(sa.select(events.c.id)).all():
        connection.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(claim_secret=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("claim_secret", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("claim_secret")
