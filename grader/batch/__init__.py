"""Grading many submissions: what to grade (plan.py), running it on a local pool or a Dask cluster
(run.py), the one worker code both run (worker.py) and the messages between them (messages.py)."""
