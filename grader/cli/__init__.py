"""The `dlgrade` command line (`main`, the entry point): learner commands (learner.py), instructor
commands (instructor.py, reports.py, roster.py) and the demo (demo.py). Each command module imports
only click at its top, so `dlgrade --help` and the learner's commands start fast."""

from __future__ import annotations

import click

from grader.cli import demo, instructor, learner, reports, roster, server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dlgrade")
def main():
    """dlgrade: exercises and autograding for a first course in neural networks and CNNs."""


for _module in (learner, instructor, demo, reports, roster, server):
    for _command in _module.COMMANDS:
        main.add_command(_command)

__all__ = ["main"]
