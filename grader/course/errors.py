"""The course package's errors, in one place so that its modules need not import each other for
them. Every message is one line that names the problem and the fix."""

from __future__ import annotations


class CourseError(Exception):
    """A course that cannot be found, created or read; the message names the problem and the fix."""


class ExchangeError(Exception):
    """A submission or collection that cannot be done; nothing in the exchange was changed."""


class RosterError(Exception):
    """A roster that cannot be read or changed; one line per problem; nothing was changed."""


__all__ = ["CourseError", "ExchangeError", "RosterError"]
