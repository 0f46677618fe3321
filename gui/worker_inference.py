"""The training worker's inference: validation predictions and text samples, asked for from any
thread and computed on the worker thread between epochs (or between two steps of a held epoch).

``WorkerInference`` is mixed into ``gui.worker.TrainingWorker``, which declares the signals
(``sigPredictions``, ``sigSample``, ``sigInferenceEpoch``, ``sigError``) and the state used here:
its condition variable, ``_pending_predictions`` / ``_pending_sample`` (only the latest request is
kept), the trainer, ``_epochs_done`` and ``_schedule`` (gui.inference_schedule: while training,
one inference every 0.5-2 s by how long the last one took, compiles not counted).
"""

from __future__ import annotations

import logging

from gui.worker_messages import copy_tree, describe_exception

log = logging.getLogger(__name__)


class WorkerInference:
    """Mixin of TrainingWorker (see the module docstring)."""

    # ------------------------------------------------------------------ requests (any thread)
    def request_predictions(self) -> None:
        """Ask for validation predictions; coalesced and rate-limited while training."""
        with self._cond:
            self._pending_predictions = True
            self._cond.notify_all()

    def request_sample(self, n: int = 200, temperature: float = 1.0, prime: str = "") -> None:
        """Ask for a generated sample; only the latest request is kept."""
        with self._cond:
            self._pending_sample = (int(n), float(temperature), str(prime))
            self._cond.notify_all()

    # ------------------------------------------------------------------ worker thread
    def _training_continuously(self) -> bool:
        """Training epoch after epoch (not paused, not stepping): inference waits for the schedule."""
        return self._steppable and not self._paused

    def _inference_due(self) -> bool:
        if not (self._pending_predictions or self._pending_sample is not None):
            return False
        if self._trainer is None or self._epochs_done == 0:
            return False
        if self._training_continuously():
            return self._schedule.due()
        return True

    def _wait_timeout(self):
        pending = self._pending_predictions or self._pending_sample is not None
        if pending and self._trainer is not None and self._epochs_done > 0:
            return max(0.005, self._schedule.wait_s())
        return None

    def _run_inference(self) -> None:
        with self._cond:
            want_predictions = self._pending_predictions
            sample = self._pending_sample
            self._pending_predictions = False
            self._pending_sample = None
            trainer = self._trainer
            run_id = self._active_run
        with self._schedule.timing(trainer):  # the next one is due by how long this took, compiles aside
            try:
                self.sigInferenceEpoch.emit(run_id, int(trainer.epoch))  # between epochs: these weights
                predictions = trainer.predict_validation() if want_predictions else None
                if predictions:
                    self.sigPredictions.emit(run_id, copy_tree(predictions))
                if sample is not None:
                    n, temperature, prime = sample
                    self.sigSample.emit(run_id, copy_tree(trainer.generate(n, temperature=temperature, prime=prime)))
            except Exception as exc:
                log.exception("inference failed")
                self.sigError.emit("Prediction failed: " + describe_exception(exc))
