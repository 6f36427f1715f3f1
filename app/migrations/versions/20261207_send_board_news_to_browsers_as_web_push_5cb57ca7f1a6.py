"""send board news to browsers as Web Push

Revision ID: 5cb57ca7f1a6
Revises: 06dbdf9f5bbc
Create Date: 2026-12-07 15:21:36.418573
"""

import sqlalchemy as sa
from alembic import op

import app.models

revision = "5cb57ca7f1a6"
down_revision = "06dbdf9f5bbc"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "instance_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_keys")),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("browser_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", app.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["stickies.id"],
            name=op.f("fk_push_subscriptions_person_id_stickies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint(
            "endpoint", "person_id", name=op.f("uq_push_subscriptions_endpoint_person_id")
        ),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_browser_id"), ["browser_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_person_id"), ["person_id"], unique=False
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subscription_id", sa.Integer(), nullable=True))
        batch_op.alter_column("hook_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_deliveries_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_message_id_subscription_id"),
            ["message_id", "subscription_id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_subscription_id_push_subscriptions"),
            "push_subscriptions",
            ["subscription_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_subscription_id_push_subscriptions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_deliveries_message_id_subscription_id"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_deliveries_subscription_id"))
        batch_op.alter_column("hook_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("subscription_id")

    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_person_id"))
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_browser_id"))

    op.drop_table("push_subscriptions")
    op.drop_table("instance_keys")
