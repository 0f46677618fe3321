"""The run: one Qt-free owner of a training run (config, live changes, state, history, folder).

A :class:`Run` wraps a :class:`~engine.training.Trainer`: it owns its state (``RunState``), takes
every live change through one door (:meth:`Run.update`, which calls ``Trainer.update`` and logs
the change), and records each epoch in its run folder (engine.run_folder, docs/RUN_FORMAT.md).
Headless mode and the window both drive it::

    run = Run.start(config, dataset, folder)        # or Run.reopen(folder) / Run.fork(folder, out, ...)
    for report in run.epochs():                     # waits while paused; reads control.jsonl between epochs
        ...
    run.step()                                      # or one epoch at a time (a worker thread that decides
                                                    # itself when to pause); None once the run has ended

``update``, ``pause``, ``resume``, ``request_step`` and ``stop`` are thread-safe and land between two steps; so do
the commands another process appends to the folder's ``control.jsonl`` (read by ``poll_control``,
which ``epochs()`` calls between epochs). A write that fails (a full disk) ends the run as
``failed`` with a message; the checkpoint on disk stays the last complete one.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from engine.insights import InsightRecorder
from engine.limits import INSIGHT_BUDGET_BYTES
from engine.names import LIVE_SETTINGS, RunState
from engine.run_folder import (BEST, CHECKPOINT, INSIGHTS, METRICS, RUN_JSON, AppendLog, ControlReader, SnapshotStore,
                               event_record, json_line, metrics_columns, metrics_row, parse_command, wall_times)
from engine.run_meta import (RunMeta, check_new_folder, check_not_being_written, csv_line, load_dataset_for,
                             read_meta)

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 10.0  # checkpoint.npz at most this often while training (always at the end)
_ENDED = (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)


class Run:
    """One training run (see the module docstring). Build it with :meth:`start`, :meth:`reopen`
    or :meth:`fork`; ``Run(trainer, folder)`` wraps a Trainer you made yourself."""

    def __init__(self, trainer, folder=None, *, meta: RunMeta | None = None,
                 checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S, test_columns: bool = False):
        self.trainer = trainer
        self.folder = Path(folder) if folder is not None else None
        self.message = ""  # why the run ended, when it did not simply finish
        self.checkpoint_interval_s = checkpoint_interval_s
        self._test_columns = test_columns  # a new metrics.csv gets test_loss/test_accuracy columns
        self.pause_on_divergence = True  # the window pauses on a refused step; headless trains on
        # Called with every event dict (as in events.jsonl) and {"kind": "state", "state", "epoch",
        # "message"} on every state change, on the thread that made the change.
        self.listeners: list = []
        self._lock = threading.RLock()
        self._state = RunState.READY
        self._generator = None
        self._stop_requested = False
        self._steps_requested = 0  # epochs to train while paused (request_step: one, then paused again)
        self._wake = threading.Event()
        self._t0 = time.monotonic()
        history = trainer.history
        self._wall_offset = wall_times(history)[-1] if history else 0.0
        self._last_checkpoint = float("-inf")  # the first epoch is checkpointed at once: resumable
        self.meta = meta
        self._metrics = self._events = self._snapshots = self._control = None
        # saliency, trajectories, U's spectrum at the inference cadence (report.insight; insights/)
        self.insights = InsightRecorder(trainer)
        if self.folder is not None:
            self._open_folder()

    # ------------------------------------------------------------------ construction
    @classmethod
    def start(cls, config, dataset, folder=None, *, overwrite: bool = False, **kwargs) -> "Run":
        """A new run of ``config`` on ``dataset``, recorded in ``folder`` (None: no folder)."""
        from engine.training import Trainer

        return cls.create(Trainer(config, dataset), dataset, folder, overwrite=overwrite, **kwargs)

    @classmethod
    def create(cls, trainer, dataset, folder=None, *, overwrite: bool = False, **kwargs) -> "Run":
        """A new run around a Trainer you built (e.g. restored from a checkpoint file)."""
        if folder is not None:
            check_new_folder(Path(folder), overwrite=overwrite)
        run = cls(trainer, folder, meta=RunMeta.new(trainer, dataset) if folder is not None else None, **kwargs)
        if trainer.history:
            run._write_history_rows()  # restored from a checkpoint: the curve so far
        run._log("start", config=trainer.config.to_dict())
        return run

    @classmethod
    def reopen(cls, folder, dataset=None, *, epochs: int | None = None, backend: str | None = None,
               **kwargs) -> "Run":
        """Continue the run in ``folder`` from its checkpoint, appending to its files; ``epochs`` is
        the new total. ``dataset`` defaults to the files named in run.json (checked against their
        fingerprint)."""
        from engine.training import Trainer

        folder = Path(folder)
        meta = read_meta(folder)
        check_not_being_written(folder)
        dataset = load_dataset_for(meta, dataset)
        checkpoint = folder / CHECKPOINT
        if not checkpoint.exists():
            raise FileNotFoundError(f"{checkpoint}: the run has no checkpoint yet (it never finished an epoch), "
                                    f"so there is nothing to resume; start it again instead")
        trainer = Trainer.load_checkpoint(checkpoint, dataset, backend=backend)
        if epochs is not None:
            if epochs <= trainer.epoch:
                raise ValueError(f"{folder} has already trained {trainer.epoch} epochs; ask for more "
                                 f"(e.g. --epochs {trainer.epoch + 10}) to continue it")
            trainer.update(epochs=epochs)
        meta.writer_started(trainer)
        run = cls(trainer, folder, meta=meta, **kwargs)
        run._log("resume_run", from_epoch=trainer.epoch, epochs=trainer.config.epochs)
        return run

    @classmethod
    def fork(cls, source, folder, dataset=None, *, checkpoint: str = "latest", overwrite: bool = False,
             run_kwargs: dict | None = None, **changes) -> "Run":
        """A new run in ``folder`` that starts from the ``latest`` or ``best`` checkpoint of the run
        in ``source``, with live settings ``changes`` (e.g. ``learning_rate=1e-3, epochs=400``)."""
        from engine.training import Trainer

        if checkpoint not in ("latest", "best"):
            raise ValueError(f"checkpoint must be 'latest' or 'best', got {checkpoint!r}")
        source = Path(source)
        parent = read_meta(source)
        dataset = load_dataset_for(parent, dataset)
        path = source / (CHECKPOINT if checkpoint == "latest" else BEST)
        if not path.exists():
            raise FileNotFoundError(f"{path}: the run in {source} has no {checkpoint} checkpoint to fork from")
        trainer = Trainer.load_checkpoint(path, dataset)
        trainer.update(**changes)
        run = cls.create(trainer, dataset, folder, overwrite=overwrite, **(run_kwargs or {}))  # e.g. test_columns
        run.meta.data["parent"] = {"folder": str(source.resolve()), "name": parent.data.get("name"),
                                   "epoch": trainer.epoch, "checkpoint": checkpoint}
        run._save_meta()
        run._log("fork", parent=str(source.resolve()), checkpoint=checkpoint, changes=dict(changes))
        return run

    def _open_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._metrics = AppendLog(self.folder / METRICS)
        self._events = AppendLog(self.folder / "events.jsonl")
        self._snapshots = SnapshotStore(self.folder)
        self.insights.store = SnapshotStore(self.folder, subfolder=INSIGHTS, budget=INSIGHT_BUDGET_BYTES, keep_last=20)
        control = self.meta.data.get("control", {}) if self.meta else {}
        self._control = ControlReader(self.folder, control.get("offset", 0), control.get("line", 0))
        self._columns = self._metrics_columns()
        self._save_meta()

    def _metrics_columns(self) -> list:
        path = self.folder / METRICS
        if path.exists() and path.stat().st_size:
            with open(path, encoding="utf-8") as fh:
                header = fh.readline().rstrip("\r\n")
            if header:
                return header.split(",")
        layers = list(self.trainer.spec.param_groups())
        columns = metrics_columns(layers, test=self._test_columns)
        self._metrics.write_line(csv_line(columns))
        return columns

    # ------------------------------------------------------------------ what the run is
    @property
    def state(self) -> RunState:
        return self._state

    @property
    def stop_requested(self) -> bool:
        """stop() was asked for (e.g. through control.jsonl) and the run has not ended yet."""
        return self._stop_requested and self._state not in _ENDED

    @property
    def config(self):
        return self.trainer.config

    @property
    def history(self) -> list:
        return self.trainer.history

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def wall_s(self) -> float:
        return self._wall_offset + (time.monotonic() - self._t0)

    def _set_state(self, state: RunState, message: str | None = None) -> None:
        with self._lock:
            self._state = state
            if message is not None:
                self.message = message
        self._save_meta()
        self._notify_state()

    def _notify_state(self) -> None:
        self._notify({"kind": "state", "state": self._state.value, "epoch": self.trainer.epoch,
                      "message": self.message})

    # ------------------------------------------------------------------ the one door for changes
    def update(self, *, source: str = "local", **changes) -> dict:
        """Change live settings (``engine.names.LIVE_SETTINGS``) through ``Trainer.update`` and log
        each change as a ``set`` event; returns ``{name: (old, new)}``. More epochs on an ended run
        reopen it, paused."""
        with self._lock:
            changed = self.trainer.update(**changes)
            for name, (old, new) in changed.items():
                self._log("set", name=name, old=old, new=new, source=source)
            if changed:  # checkpoint after the next epoch, so a resume continues with the change
                self._last_checkpoint = float("-inf")
            if (self._state in (RunState.FINISHED, RunState.STOPPED) and "epochs" in changed
                    and self.trainer.epoch < self.trainer.config.epochs):
                self._generator = None
                self._stop_requested = False
                self._set_state(RunState.PAUSED, "")
        self._wake.set()
        return changed

    def pause(self, *, source: str = "local") -> None:
        with self._lock:
            if self._state in (RunState.READY, RunState.COMPILING, RunState.RUNNING):
                self._log("pause", source=source)
                self._set_state(RunState.PAUSED)

    def resume(self, *, source: str = "local") -> None:
        with self._lock:
            if self._state in (RunState.PAUSED, RunState.DIVERGED):
                self._log("resume", source=source)
                self._set_state(RunState.RUNNING)
        self._wake.set()

    def request_step(self, *, source: str = "local") -> None:
        """Train one more epoch, then be paused (the window's Step; control.jsonl's ``step``): a
        running run pauses first (logged as a ``pause``), so it trains one epoch and pauses again.
        ``epochs()`` takes the step; a worker that calls ``step()`` itself asks ``take_step()``."""
        with self._lock:
            if self._state in _ENDED or self._stop_requested:
                return
            self.pause(source=source)
            self._log("step", source=source)
            self._steps_requested += 1
        self._wake.set()

    def take_step(self) -> bool:
        """Consume one requested step (True if there was one); the caller trains that epoch."""
        with self._lock:
            if self._steps_requested <= 0:
                return False
            self._steps_requested -= 1
            return True

    def roll_back(self, *, source: str = "local") -> int:
        """Put the last good epoch's weights back (``Trainer.roll_back``; call it between steps,
        from the thread that trains), logged as a ``rollback`` event; a diverged run is paused
        again, so Resume (with the new rate) continues from those weights. Returns that epoch."""
        with self._lock:
            epoch = self.trainer.roll_back()
            self._log("rollback", to_epoch=epoch, source=source)
            self._last_checkpoint = float("-inf")  # the next epoch's checkpoint holds the rolled-back weights
            if self._state is RunState.DIVERGED:
                self._set_state(RunState.PAUSED)
        return epoch

    def stop(self, *, source: str = "local") -> None:
        """End the run after the current step (thread-safe, returns at once)."""
        with self._lock:
            if self._state in _ENDED or self._stop_requested:
                return
            self._stop_requested = True
            self._log("stop", source=source)
            training = self._generator is not None
        if training:  # end the epoch in flight; between runs of epochs() there is nothing to end
            self.trainer.stop()
        self._wake.set()

    def poll_control(self) -> int:
        """Apply the commands appended to ``control.jsonl`` since the last call; a bad line is logged
        as ``rejected`` and changes nothing. Returns the number of lines read."""
        if self._control is None:
            return 0
        try:
            lines = self._control.read()
            for number, text in lines:
                self._apply_control(number, text)
            if lines:
                self.meta.data["control"] = {"offset": self._control.offset, "line": self._control.line}
                self._save_meta()
        except OSError as exc:  # logging the command failed (a full disk): end the run, do not crash
            self._end_on_write_error(exc)
            return 0
        return len(lines)

    def _apply_control(self, number: int, text) -> None:
        try:
            if text is None:
                raise ValueError("line too long")
            command = parse_command(text, LIVE_SETTINGS)
            kind = command["command"]
            if kind == "set":
                self.update(source="control", **{command["name"]: command["value"]})
            elif kind == "step":
                self.request_step(source="control")
            else:
                getattr(self, kind)(source="control")
        except (ValueError, TypeError) as exc:
            self._log("rejected", line=number, text=(text or "")[:200], reason=str(exc))

    # ------------------------------------------------------------------ training
    def epochs(self, poll_s: float = 0.2):
        """Generator of EpochReports until the run ends; waits while paused (or diverged), reading
        ``control.jsonl`` every ``poll_s`` seconds, so another process can resume, step or stop it."""
        while True:
            self.poll_control()
            stepping = False
            if self._state in (RunState.PAUSED, RunState.DIVERGED) and not self._stop_requested:
                stepping = self.take_step()
                if not stepping:
                    self._wake.wait(poll_s)
                    self._wake.clear()
                    continue
            report = self.step()
            if report is None:
                return
            if stepping:
                self._pause_after_step()
            yield report

    def _pause_after_step(self) -> None:
        """After a requested step: paused again (a first step compiled and set RUNNING; a good epoch
        after a divergence is no longer diverged; a diverged one stays so)."""
        with self._lock:
            if self._state in (RunState.RUNNING, RunState.COMPILING, RunState.READY):
                self._set_state(RunState.PAUSED)

    def step(self):
        """Train one epoch (also while paused: a single step); None once the run has ended."""
        with self._lock:
            if self._state in _ENDED:
                return None
            if self._stop_requested:
                self._end(RunState.STOPPED)
                return None
            if self._generator is None:
                self._generator = self.trainer.epochs()
                if self.trainer.f_train is None:
                    self._set_state(RunState.COMPILING)
        try:
            report = next(self._generator)
        except StopIteration:
            self._end(RunState.FINISHED)
            return None
        except Exception as exc:
            self._end(RunState.FAILED, f"training failed: {exc}")
            raise
        try:
            self._record(report)
        except OSError as exc:
            self._end_on_write_error(exc)
            return report
        self._after_report(report)
        return report

    def _close_generator(self) -> None:
        generator, self._generator = self._generator, None
        if generator is not None:
            generator.close()  # the Trainer forgets the stop and frees epochs() for a later run

    def _after_report(self, report) -> None:
        if report.stopped:
            self._end(RunState.STOPPED)
        elif report.diverged:
            self._log("divergence", skipped_steps=report.skipped_steps, learning_rate=report.learning_rate,
                      clip_norm=report.clip_norm, exploded_loss=getattr(report, "exploded_loss", None))
            if self.pause_on_divergence:
                self._set_state(RunState.DIVERGED, "")
        elif self._state in (RunState.COMPILING, RunState.READY):
            self._set_state(RunState.RUNNING)

    def _end(self, state: RunState, message: str = "") -> None:
        with self._lock:
            self._close_generator()
            self._state = state
            self.message = message
        self._notify_state()
        try:
            if self.folder is not None and self.trainer.epoch and state is not RunState.FAILED:
                self._save_checkpoint()
            if state is not RunState.STOPPED:  # stop() logged the stop when it was asked for
                self._log("finish" if state is RunState.FINISHED else "fail", message=message)
            self._save_meta()
        except OSError as exc:
            self._end_on_write_error(exc)

    def _end_on_write_error(self, exc: OSError) -> None:
        """A write failed (a full disk, a vanished folder): end the run, keep what is on disk."""
        filename = getattr(exc, "filename", None) or "the run folder"
        what = exc.strerror or str(exc)
        with self._lock:
            self._close_generator()
            self._state = RunState.FAILED
            self.message = (f"could not write {filename} ({what}): the run stopped at epoch {self.trainer.epoch}; "
                            f"{CHECKPOINT} in {self.folder} is the last complete checkpoint. Free some space, "
                            f"then resume the run (--resume {self.folder})")
        self._notify_state()
        try:
            self._log("fail", message=self.message)
            self._save_meta()
        except OSError:
            pass  # the disk is still full: the message is on the Run and the caller shows it

    # ------------------------------------------------------------------ the folder
    def _record(self, report) -> None:
        trainer = self.trainer
        if not trainer.history or trainer.history[-1]["epoch"] != report.epoch or trainer.epoch != report.epoch:
            return  # a stop before the first step: nothing was trained, nothing to record
        entry = trainer.history[-1]
        entry["wall_s"] = round(self.wall_s, 3)
        if self.folder is not None:
            self._write_epoch(report, entry)
        self.insights.observe(report)  # when due, after the essentials; its own failures only turn the views off

    def _write_epoch(self, report, entry) -> None:
        trainer = self.trainer
        self._metrics.write_line(csv_line(metrics_row(entry, entry["wall_s"], self._columns)))
        self._snapshots.add(report.epoch, report.hidden, report.gates, report.probe_index, report.probe_text)
        if trainer.best.epoch == report.epoch:  # the Trainer owns the best epoch; run.json shows it
            trainer.save_checkpoint(self.folder / BEST)
            self._save_meta()
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_interval_s:
            self._save_checkpoint()

    def _write_history_rows(self) -> None:
        history = self.trainer.history
        for entry, wall in zip(history, wall_times(history)):
            self._metrics.write_line(csv_line(metrics_row(entry, wall, self._columns)))

    def _save_checkpoint(self) -> None:
        from engine.checkpoint import CheckpointError

        try:
            self.trainer.save_checkpoint(self.folder / CHECKPOINT)
        except CheckpointError as exc:  # engine.checkpoint wraps the OSError; keep it an OSError here
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
            raise OSError(getattr(cause, "errno", None), str(exc), str(self.folder / CHECKPOINT)) from exc
        self._last_checkpoint = time.monotonic()
        self._log("checkpoint", file=CHECKPOINT)
        self._save_meta()

    def set_test(self, result: dict) -> None:
        """Record a test set's scores (engine.evaluation.TestResult.to_json()) as run.json's "test"."""
        if self.meta is not None:
            self.meta.data["test"] = dict(result)
            self._save_meta()

    def _save_meta(self) -> None:
        if self.folder is None or self.meta is None:
            return
        self.meta.save(self.folder / RUN_JSON, self._state, self.message, self.trainer)

    def _log(self, kind: str, **fields) -> None:
        record = event_record(kind, self.trainer.epoch, self.wall_s, **fields)
        if self._events is not None:
            with self._lock:
                self._events.write_line(json_line(record))
        self._notify(record)

    def _notify(self, record: dict) -> None:
        for listener in list(self.listeners):
            try:
                listener(record)
            except Exception:  # a view's bug must not end the run
                log.exception("run listener failed")

    def close(self) -> None:
        """Close the folder's files (the run stays readable; a resume appends to them)."""
        for log in (self._metrics, self._events):
            if log is not None:
                log.close()


__all__ = ["Run", "RunState"]
