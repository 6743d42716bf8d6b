"""The gradebook's tables as SQLAlchemy models; the schema itself is made only by the migrations.

Change a model, then write the Alembic revision that makes the same change (see
`grader/gradebook/migrations/env.py`); tests/test_gradebook.py checks that both agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, MetaData, String,
                        Text, TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from grader.clock import as_utc, now_utc


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back as an aware UTC datetime on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value  # SQLite keeps no zone

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return as_utc(value)


class Base(DeclarativeBase):
    """The models. Constraint names follow one convention, so every database names them alike."""

    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class ExerciseRecord(Base):
    """An exercise as the gradebook records it: id, title and content hash (the exercise itself is
    `grader.exercise.spec.Exercise`)."""
    __tablename__ = "exercises"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(400))
    content_hash: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "exercise_id", "sha256", "submitted_at"),
                      Index(None, "exercise_id", "sha256"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_days: Mapped[float] = mapped_column(Float, default=0.0)
    # What the late policy multiplies the score by, decided once when the submission was collected
    # (1.0 on time). NULL only for a late submission collected before the gradebook stored it
    # (revision 0003): the next collect of the same submission records it.
    late_factor: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str] = mapped_column(Text)


class Grading(Base):
    __tablename__ = "gradings"
    __table_args__ = (CheckConstraint("status IN ('graded', 'failed', 'crashed')", name="status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    exercise_hash: Mapped[str] = mapped_column(String(128))
    grader_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # a stored GradingState
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    result_json: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(String(200))
    backend: Mapped[str | None] = mapped_column(String(200))
    duration_s: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)  # when this result was recorded
    fault: Mapped[str | None] = mapped_column(String(32))  # a GradingFault, for a failed grading


class Override(Base):
    __tablename__ = "overrides"
    __table_args__ = (Index(None, "student_id", "exercise_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class PersonRecord(Base):
    """Someone a course served over HTTP knows (revision 0004): a learner (who also has a `students`
    row), a TA or an instructor; `id` is the learner or staff id."""
    __tablename__ = "people"
    __table_args__ = (CheckConstraint("role IN ('learner', 'ta', 'instructor')", name="role"),)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(400), default="")
    email: Mapped[str] = mapped_column(String(400), default="")
    section: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="learner")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class TokenRecord(Base):
    """A person's access token, stored only as the sha256 hex of the token; a revoked one keeps its
    row (so a revoked token is told apart from an unknown one)."""
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReleaseRecord(Base):
    """An exercise whose hidden results and feedback were released to its learners over HTTP."""
    __tablename__ = "releases"
    exercise_id: Mapped[str] = mapped_column(ForeignKey("exercises.id"), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    released_by: Mapped[str] = mapped_column(String(200))


__all__ = ["Base", "UTCDateTime", "Student", "ExerciseRecord", "Submission", "Grading", "Override", "PersonRecord",
           "TokenRecord", "ReleaseRecord"]
