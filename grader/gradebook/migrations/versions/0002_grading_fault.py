"""gradings.fault: why a failed grading is not a grade (a grader fault, a submission that cannot
be graded, a database error), kept as a typed value next to the `error` text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gradings") as batch:
        batch.add_column(sa.Column("fault", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gradings") as batch:
        batch.drop_column("fault")
