"""dlgrade: automated grading for a course in neural networks and CNNs with Keras.

One package per stage of the pipeline (see docs/architecture.md): `exercise` (what an exercise is
and the test author's API), `sandbox` (running learner code in isolation; `sandbox.inside` is what
runs there), `grading` (one grading), `course` (configuration, exchange, roster), `gradebook`
(the database), `batch` (many gradings), `report` (pages and exports), `data` (the course's data)
and `cli` (the `dlgrade` command)."""

__version__ = "0.1.0"
