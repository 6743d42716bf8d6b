"""The `dlgrade` command line: learner commands, instructor commands and the demo."""

from grader.cli.main import main

__all__ = ["main"]
