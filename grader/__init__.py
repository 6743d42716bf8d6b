"""dlgrade's grading engine: exercises, the sandbox, gradings and their results."""

__version__ = "0.1.0"
