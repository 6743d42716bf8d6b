"""What each Dask worker process does once, before its first grading: a WorkerPlugin that the batch's
coordinator registers (`grader.batch.run.DaskPool`), so workers that join later get it too.

Imported only when a batch runs on Dask (it imports `distributed`)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from grader.batch.worker import prepare_grading_process


class PrepareGradingWorker(WorkerPlugin):
    """Runs `prepare_grading_process` in each worker process of the cluster."""

    name = "dlgrade-prepare-grading-worker"
    idempotent = True  # registered again by every batch: a worker prepares once

    def setup(self, worker) -> None:
        prepare_grading_process()
