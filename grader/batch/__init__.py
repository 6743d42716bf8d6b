"""Grading many submissions: planning a batch and running it on a local pool or a Dask cluster."""
