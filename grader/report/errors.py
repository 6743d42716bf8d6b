"""The one error of the report package: a report that cannot be made, written or found."""


class ReportError(Exception):
    """A report that cannot be made or found; the message is one line that says what to do."""


__all__ = ["ReportError"]
