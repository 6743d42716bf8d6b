"""Exercises: their spec (exercise.toml), templates, the test author's API and the model checks."""
