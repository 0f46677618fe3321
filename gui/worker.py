"""The training worker: one QThread that owns the Trainer and every compiled call.

The worker is a small actor. The GUI thread never touches a Trainer directly except through its
documented thread-safe setters; everything else (building the Trainer, compiling, training,
inference, checkpoints, loading a dataset) is a command queued to the worker thread. The thread
runs ``_serve``: take a command, else serve a due inference request (``gui.worker_inference``),
else run one epoch of the engine's generator (``Trainer.epochs()``), else sleep on a condition variable. Step and
stop are checked between epochs (``Trainer.stop()`` also ends the current epoch early); a pause
lands within one step (``gui.worker_tools`` holds the epoch in the Trainer's step hook).

Every run gets an id (``run_id``) handed out synchronously in the GUI thread, and every
run-scoped signal carries it, so a report still queued from a run the user just replaced can be
recognised and dropped by the window instead of landing on the new run's curves.

Signals carry fresh objects (the engine's reports are copies; predictions are copied here), so
the GUI may keep them without racing the worker. Loss points are never dropped: every epoch is
emitted. To keep a very fast model from flooding the event queue (and memory), the window may
turn on flow control: the worker waits while more than ``max_in_flight`` reports are
unacknowledged (``ack_epoch``).
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from PyQt5.QtCore import QObject, QThread, pyqtSignal

from engine.names import LIVE_SETTINGS, RunState
from gui.gc_freeze import GarbageFreezer
from gui.inference_schedule import MIN_INTERVAL_S, InferenceSchedule
from gui.run_builder import build_run, loaded_payload
from gui.worker_messages import (describe_exception, divergence_message, log_failure, lower_thread_priority,
                                 remove_if_empty, stop_run, training_graph)
from gui.worker_inference import WorkerInference
from gui.worker_tools import CONTROL_POLL_S, TOOL_COMMANDS, WorkerTools

log = logging.getLogger(__name__)

# Inference (predictions, text samples) while training: see gui.inference_schedule.
INFERENCE_MIN_INTERVAL_S = MIN_INTERVAL_S


class TrainingWorker(WorkerTools, WorkerInference, QObject):
    """Runs ``Trainer.epochs()`` on its own QThread; all public methods are thread-safe.

    Contract signals (docs/ARCHITECTURE.md): ``sigStarted``, ``sigFinished``, ``sigError(str)``,
    ``sigDiverged(str)``, and run-scoped ones that carry the run id (``sigRunEpoch`` for reports).
    """

    sigStarted = pyqtSignal()  # a run began training (after its compile)
    sigFinished = pyqtSignal()  # a run ended (all epochs done, or stopped)
    sigError = pyqtSignal(str)  # any exception in the worker, as a message for a dialog
    sigDiverged = pyqtSignal(str)  # non-finite step refused; the worker paused itself
    sigSteered = pyqtSignal(int, str, str)  # (run_id, "paused"|"running", what): control.jsonl paused/resumed it
    sigStatus = pyqtSignal(str)  # short human status: "compiling…", "training", ...
    sigGraph = pyqtSignal(int, object)  # (run_id, engine.graph_text.GraphText): the training step, once compiled

    sigRunEpoch = pyqtSignal(int, object)  # (run_id, EpochReport)
    sigRunState = pyqtSignal(int, str)  # (run_id, "ready"|"compiling"|"running"|"paused"|"finished"|"stopped"|"failed")
    sigRunLoaded = pyqtSignal(int, object)  # (run_id, {"config", "history", "weights_only"}) after a checkpoint load/fork
    sigRunEvent = pyqtSignal(int, object)  # (run_id, event dict as in events.jsonl): set, pause, checkpoint, ...
    sigPredictions = pyqtSignal(int, object)  # (run_id, dict from Trainer.predict_validation)
    sigSample = pyqtSignal(int, object)  # (run_id, generated text or array)
    sigInferenceEpoch = pyqtSignal(int, int)  # (run_id, epoch): the next predictions/sample come from its weights
    sigRolledBack = pyqtSignal(int, int)  # (run_id, epoch whose weights roll_back() put back)
    sigLiveRefused = pyqtSignal(int, str, object, str)  # (run_id, name, value, why): the run kept its value
    sigCheckpointSaved = pyqtSignal(str)
    sigDatasetLoaded = pyqtSignal(int, object)  # (request_id, SequenceDataset)
    sigJobDone = pyqtSignal(int, object, object)  # (job_id, result, exception or None): submit()'s answer
    sigDatasetFailed = pyqtSignal(int, object)  # (request_id, the exception: a DataError names the file and its fixes)
    sigRunStep = pyqtSignal(int, object)  # (run_id, engine.progress.StepReport): progress within an epoch
    sigBestRestored = pyqtSignal(int, int)  # (run_id, epoch whose weights the model holds now)
    sigLRFinder = pyqtSignal(int, object)  # (run_id, {"done", "steps"} | {"result": LRFinderResult} | {"error"})

    def __init__(self, *, max_in_flight: int | None = None, trainer_factory=None, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._commands: collections.deque = collections.deque()
        self._quit = False
        self._paused = True
        self._steps = 0
        self._stepping = False  # the epoch in progress was asked for by step(): a pause does not hold it
        self._run_id = 0  # last id handed out (GUI thread, under the lock)
        self._active_run = 0  # run the worker thread is executing
        self._trainer = None
        self._run = None  # engine.runs.Run around the trainer: THE owner of the run's settings and state
        self._steppable = False  # the run can train another epoch (it has not ended)
        self._epochs_done = 0
        self._first_step = True
        self._control_poll_at = 0.0  # when a paused run next reads its control.jsonl
        self._live: dict = {}
        self._in_flight = 0
        self.max_in_flight = max_in_flight
        self._pending_predictions = False
        self._pending_sample = None  # (n, temperature, prime)
        self._schedule = InferenceSchedule()
        self._trainer_factory = trainer_factory
        self.run_kwargs: dict = {}  # extra Run.create keywords for the next runs (the window: test_columns)
        self._thread: QThread | None = None
        self._garbage = GarbageFreezer()  # worker thread only

    # ------------------------------------------------------------------ lifecycle (GUI thread)
    def start_thread(self) -> QThread:
        """Move to a fresh QThread and start serving commands."""
        if self._thread is not None:
            return self._thread
        thread = QThread()
        thread.setObjectName("rnnscope-training")
        self.moveToThread(thread)
        thread.started.connect(self._serve)
        self._thread = thread
        thread.start()
        return thread

    def shutdown(self, timeout_ms: int = 1800) -> bool:
        """Stop training, end the thread, wait up to ``timeout_ms``. True if the thread ended."""
        with self._cond:
            self._quit = True
            run = self._run
            self._cond.notify_all()
        self._stop_run(run)
        thread = self._thread
        if thread is None:
            return True
        thread.quit()
        finished = thread.wait(max(0, int(timeout_ms)))
        if not finished:
            log.warning("training thread still busy (compiling?) after %d ms", timeout_ms)
        return bool(finished)

    def is_thread_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    # ------------------------------------------------------------------ commands (any thread)
    def new_run(self, config, dataset, *, paused: bool = True, folder=None) -> int:
        """Replace the current run by a fresh Run for ``config``/``dataset``, recorded in the run
        folder ``folder`` (None: no folder); returns the run id.

        The old run is stopped at once (its current epoch ends early). The Trainer is built on
        the worker thread; it compiles on the first epoch.
        """
        return self._replace_run(("new_run", config, dataset, folder), paused)

    def load_checkpoint(self, path, dataset, *, paused: bool = True, weights_only: bool = False, folder=None) -> int:
        """Replace the current run by one restored from ``path`` (a file, or the Checkpoint that
        ``Trainer.check_checkpoint`` validated), recorded in the run folder ``folder``;
        ``weights_only`` starts a new run from its weights. Emits sigRunLoaded."""
        return self._replace_run(("load_checkpoint", (path, weights_only), dataset, folder), paused)

    def fork_run(self, source, dataset, *, checkpoint: str = "latest", changes=None, paused: bool = True,
                 folder=None) -> int:
        """Replace the current run by a fork of the run folder ``source`` at its ``latest`` or ``best``
        checkpoint with live settings ``changes``, recorded in ``folder`` (engine Run.fork). The
        current run ends first, so forking it at "latest" starts from its last epoch. Emits sigRunLoaded."""
        return self._replace_run(("fork", (source, checkpoint, dict(changes or {})), dataset, folder), paused)

    def _replace_run(self, command, paused) -> int:
        with self._cond:
            self._run_id += 1
            run_id = self._run_id
            old = self._run
            self._live.clear()
            self._pending_predictions = False
            self._pending_sample = None
            # Applied now, not when the worker builds the run: a resume()/step() the user gives
            # while the Trainer is still being built must not be overwritten by it.
            self._paused = paused
            self._steps = 0
            self._commands.append((*command, run_id, paused))
            self._cond.notify_all()
        self._stop_run(old)
        return run_id

    def stop(self) -> None:
        """End the current run (the trainer is kept for checkpoints and inference)."""
        with self._cond:
            run = self._run if self._steppable else None
            self._commands.append(("stop", self._run_id))
            self._cond.notify_all()
        self._stop_run(run)

    def pause(self) -> None:
        """Pause within one step (the epoch in progress is held between two steps)."""
        with self._cond:
            self._paused = True
            self._steps = 0
            self._stepping = False
            run = self._run
            self._cond.notify_all()
        if run is not None:
            run.pause()  # recorded in the run folder (events.jsonl, run.json)

    def resume(self) -> None:
        with self._cond:
            run = self._run
            if run is not None:
                # first the run, then the flag: the worker must never see itself resumed while the
                # run still says PAUSED (it would take that for a pause from control.jsonl)
                run.resume()
            self._paused = False
            self._steps = 0
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused, run ``n`` more epochs and pause again."""
        with self._cond:
            self._paused = True
            self._steps += int(n)
            self._cond.notify_all()

    def set_live(self, name: str, value) -> dict:
        """Change a live setting through the run's one door, ``Run.update`` (thread-safe; next step,
        no recompile, logged in the run folder). Returns ``{name: (old, new)}`` when the run
        exists, {} while it is still being built (then it is applied once it is)."""
        if name not in LIVE_SETTINGS:
            raise ValueError(f"{name!r} is not a live setting; live settings are {LIVE_SETTINGS}")
        with self._cond:
            self._live[name] = value
            run = self._run
            if name == "epochs" and run is not None:
                # A run that already ended at its old epoch count is reopened, paused.
                self._commands.append(("extend", self._run_id))
                self._cond.notify_all()
        if run is None:
            return {}
        try:
            return run.update(**{name: value}) or {}
        except Exception as exc:  # a bad value must not kill the GUI thread; the window reverts the field
            with self._cond:
                self._live.pop(name, None)
            self.sigLiveRefused.emit(self.run_id, name, value, describe_exception(exc))
            return {}

    def run_config(self):
        """The current run's settings as the run holds them (None before the first run)."""
        with self._cond:
            run = self._run
        return None if run is None else run.config

    def roll_back(self) -> None:
        """Put the last good epoch's weights back (``Run.roll_back``, on the worker thread before
        the next epoch); emits sigRolledBack(run_id, epoch)."""
        with self._cond:
            self._commands.append(("roll_back", self._run_id))
            self._cond.notify_all()

    def save_checkpoint(self, path: str) -> None:
        with self._cond:
            self._commands.append(("save_checkpoint", str(path)))
            self._cond.notify_all()

    def load_dataset(self, paths, options: dict, request_id: int) -> None:
        """Load on the worker thread so a big file never freezes the window."""
        with self._cond:
            self._commands.append(("load_dataset", list(paths), dict(options), int(request_id)))
            self._cond.notify_all()

    def submit(self, job, job_id: int) -> None:
        """Run ``job(run)`` on the worker thread between epochs (the current ``engine.runs.Run`` or
        None); its result or exception comes back as ``sigJobDone(job_id, result, error)``."""
        with self._cond:
            self._commands.append(("job", job, int(job_id)))
            self._cond.notify_all()

    def ack_epoch(self) -> None:
        """The window handled one report (flow control)."""
        with self._cond:
            if self._in_flight > 0:
                self._in_flight -= 1
            self._cond.notify_all()

    @property
    def run_id(self) -> int:
        with self._cond:
            return self._run_id

    @property
    def trainer(self):
        """The current Trainer (for tests/diagnostics: read-only use, e.g. ``n_compiles``)."""
        with self._cond:
            return self._trainer

    # ------------------------------------------------------------------ worker thread
    def _serve(self) -> None:
        lower_thread_priority()
        self._prewarm()  # gui.worker_tools: imports and XLA start-up while the window is built
        while True:
            action = self._next_action()
            if action is None:  # quit
                break
            kind, payload = action
            if kind == "command":
                self._run_command(payload)
            elif kind == "inference":
                self._run_inference()
            elif kind == "control":
                self._obey_control_while_paused()
            else:
                self._run_epoch()
        self._end_run()
        with self._cond:
            self._trainer = None
        thread = self.thread()
        if thread is not None:
            thread.quit()

    def _next_action(self):
        """Wait for the next thing to do: ("command", c), ("inference", None), ("epoch", None), or
        None to quit. Commands first, then due inference, then an epoch (unless throttled)."""
        with self._cond:
            while not self._quit:
                if self._commands:
                    return "command", self._commands.popleft()
                if self._inference_due():
                    return "inference", None
                if self._can_train() and not self._throttled():
                    self._stepping = self._paused
                    if self._paused:
                        self._steps -= 1
                    return "epoch", None
                if self._steppable and self._paused and time.monotonic() >= self._control_poll_at:
                    self._control_poll_at = time.monotonic() + CONTROL_POLL_S
                    return "control", None  # a paused run reads its control.jsonl (resume, step, stop)
                self._cond.wait(0.02 if self._can_train() else self._paused_wait())
        return None

    def _can_train(self) -> bool:
        return self._steppable and (not self._paused or self._steps > 0)

    def _throttled(self) -> bool:
        return self.max_in_flight is not None and self._in_flight >= self.max_in_flight

    def _paused_wait(self):
        timeout = self._wait_timeout()
        if self._steppable and self._paused:  # paused: wake to read control.jsonl
            return CONTROL_POLL_S if timeout is None else min(timeout, CONTROL_POLL_S)
        return timeout

    def _run_command(self, command) -> None:
        name = command[0]
        try:
            if name in ("new_run", "load_checkpoint", "fork"):
                self._start_run(command)
            elif name == "stop":
                if command[1] == self._active_run and self._steppable:
                    self._run.stop()
                    self._run.step()  # ends it now: STOPPED, last checkpoint written, logged
                    self._steppable = False
                    self._emit_state("stopped")
                    self.sigFinished.emit()
            elif name == "extend":
                self._extend_run(command[1])
            elif name == "roll_back" and command[1] == self._active_run and self._run is not None:
                self.sigRolledBack.emit(command[1], self._run.roll_back())
            elif name == "save_checkpoint":
                self._save_checkpoint(command[1])
            elif name == "load_dataset":
                self._load_dataset(*command[1:])
            elif name == "job":
                self._run_job(*command[1:])
            elif name == "prepare":
                self._prepare(*command[1:])
            elif name in TOOL_COMMANDS:
                self._run_tool(command)
        except Exception as exc:
            log_failure(log, f"worker command {name} failed", exc)
            self.sigError.emit(describe_exception(exc))

    def _extend_run(self, run_id: int) -> None:
        run = self._run
        if (run_id != self._active_run or self._steppable or run is None
                or run.epoch >= run.config.epochs):
            return  # still running (the generator reads the new count itself) or nothing to add
        with self._cond:
            self._steppable = True  # Run.update reopened it: the next step continues at run.epoch + 1
            self._paused = True
            self._steps = 0
        self._emit_state("ready")

    def _start_run(self, command) -> None:
        kind, source, dataset, folder, run_id, paused = command
        self._end_run()
        self._garbage.thaw()
        with self._cond:
            superseded = run_id != self._run_id
        if superseded:  # a newer run is already queued: do not build this one at all
            remove_if_empty(folder)
            return
        self._active_run = run_id
        self._epochs_done = 0
        self._first_step = True  # also for a run restored or forked with a history: it compiles now
        self._in_flight = 0
        self._schedule.reset()
        try:
            run = build_run(kind, source, dataset, folder, self._make_trainer, **self.run_kwargs)
            trainer = run.trainer  # the Trainer selects the backend itself
        except Exception as exc:
            log_failure(log, "could not create the trainer", exc)
            with self._cond:
                self._trainer = None
            self._emit_state("failed")
            self.sigError.emit(describe_exception(exc))
            return
        with self._cond:
            if run_id != self._run_id:  # replaced while we were building
                run.close()
                return
            self._trainer = trainer
            self._run = run
            self._steppable = True
            live = dict(self._live)
        self._watch_steps(trainer, run_id)
        for name, value in live.items():  # changes made while the trainer was being built
            try:
                run.update(**{name: value})
            except Exception as exc:  # as in set_live: a bad value must not keep the run from becoming ready
                self.sigLiveRefused.emit(run_id, name, value, describe_exception(exc))
        run.listeners.append(lambda event, rid=run_id: self._emit_event(rid, event))
        if kind != "new_run":
            payload = loaded_payload(kind, source, run)
            self._epochs_done = len(payload["history"])
            self.sigRunLoaded.emit(run_id, payload)
        self._emit_state("ready")

    def _make_trainer(self, config, dataset):
        """A new run's Trainer (tests stand in a slow compile here)."""
        if self._trainer_factory is not None:
            return self._trainer_factory(config, dataset)
        prepared = self._take_prepared(config, dataset)  # compiled while the user was asked (WorkerTools)
        if prepared is not None:
            return prepared
        from engine.training import Trainer
        return Trainer(config, dataset)

    def _run_epoch(self) -> None:
        run_id = self._active_run
        first = self._first_step
        if first:
            self._emit_state("compiling")
            self.sigStatus.emit("compiling…")
        if self._obey_control():
            return
        try:
            report = self._run.step()  # the Run records the epoch in its folder
        except Exception as exc:
            log.exception("training epoch failed")
            self._steppable = False
            self._emit_state("failed")
            self.sigError.emit(describe_exception(exc))
            return
        if report is None:  # the run ended: all epochs done, stopped, or a write failed (full disk)
            self._steppable = False
            state = str(self._run.state)
            if self._run.state is RunState.FINISHED:
                self._restore_best(run_id)  # as headless: the run ends on its best weights
            self._emit_state(state)
            if self._run.message:
                self.sigError.emit(self._run.message)
            self.sigFinished.emit()
            return
        self._epochs_done += 1
        with self._cond:
            stale = run_id != self._run_id
            if not stale and self.max_in_flight is not None:
                self._in_flight += 1
        if stale:
            return
        if first:
            self._first_step = False
            self._garbage.freeze()
            self.sigStarted.emit()
            self.sigStatus.emit("training")
        self.sigRunEpoch.emit(run_id, report)
        if first and (graph := training_graph(self._trainer)) is not None:  # after the first report
            self.sigGraph.emit(run_id, graph)  # the Graph dock (printing it never delays the first loss point)
        if report.stopped or self._run.state in (RunState.STOPPED, RunState.FAILED):
            self._steppable = False
            self._emit_state(str(self._run.state))
            if self._run.message:
                self.sigError.emit(self._run.message)
            self.sigFinished.emit()
            return
        if getattr(report, "diverged", False):
            with self._cond:
                self._paused = True
                self._steps = 0
            self._emit_state("paused")
            self.sigDiverged.emit(divergence_message(report, self._run.config.cell))
            return
        with self._cond:
            paused = self._paused and self._steps <= 0
        if first or paused:
            self._emit_state("paused" if paused else "running")

    def _save_checkpoint(self, path: str) -> None:
        trainer = self._trainer
        if trainer is None or self._epochs_done == 0:
            self.sigError.emit(
                f"Nothing to save to {path}: train at least one epoch (or load a checkpoint) first."
            )
            return
        trainer.save_checkpoint(path)
        self.sigCheckpointSaved.emit(path)

    def _load_dataset(self, paths, options, request_id) -> None:
        from engine.data import load_sequences

        try:
            dataset = load_sequences(paths if len(paths) > 1 else paths[0], **options)
        except Exception as exc:
            self.sigDatasetFailed.emit(request_id, exc)
            return
        self.sigDatasetLoaded.emit(request_id, dataset)

    def _run_job(self, job, job_id: int) -> None:
        try:
            result = job(self._run)
        except Exception as exc:  # the job's caller says what went wrong
            log_failure(log, "worker job failed", exc)
            self.sigJobDone.emit(job_id, None, exc)
            return
        self.sigJobDone.emit(job_id, result, None)

    def _end_run(self) -> None:
        """Stop the current run (if it can still train) and close its folder's files."""
        run, self._run = self._run, None
        steppable, self._steppable = self._steppable, False
        if run is None:
            return
        try:
            if steppable:
                run.stop()
                run.step()  # ends it: STOPPED, checkpoint written, logged
            run.close()
        except Exception:  # ending a run must never take the worker down
            log.exception("ending the run failed")

    def _emit_event(self, run_id: int, event: dict) -> None:
        """The Run's events (not its state changes: sigRunState says those) as a signal (any thread)."""
        if event.get("kind") != "state":
            self.sigRunEvent.emit(run_id, dict(event))

    def _emit_state(self, state: str) -> None:
        self.sigRunState.emit(self._active_run, state)

    _stop_run = staticmethod(stop_run)
