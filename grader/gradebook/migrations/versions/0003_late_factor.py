"""submissions.late_factor: the late policy's factor, decided once when the submission is collected
and applied by the gradebook's grade rows (no reader applies the late policy again).

On-time submissions of an existing gradebook get 1.0. A late one keeps NULL ("not recorded"): the
migration cannot know the course's policy, so it guesses no factor; the gradebook applies none and
says so in the grade row (`late_factor` None), and the next `dlgrade collect` of the same submission
records the factor.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("late_factor", sa.Float(), nullable=True))
    submissions = sa.table("submissions", sa.column("late", sa.Boolean()), sa.column("late_factor", sa.Float()))
    op.execute(submissions.update().where(submissions.c.late == sa.false()).values(late_factor=1.0))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("late_factor")
