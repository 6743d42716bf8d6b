"""A course: its configuration, paths, late policy, the exchange, the roster and the learner bundle."""
