"""The learner-facing exercises (data files; installed as `grader.exercises`)."""
