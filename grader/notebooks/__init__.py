"""Jupyter notebooks: exercises released as notebooks, learner notebooks graded, nbgrader assignments imported."""
