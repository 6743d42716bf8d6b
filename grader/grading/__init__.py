"""Grading one submission: its files, the engine, the pytest plugin and the typed result."""
