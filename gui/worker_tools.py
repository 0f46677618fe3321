"""What the training worker does besides whole epochs: progress within an epoch, a pause that
lands within one step, obeying the run's control.jsonl, the best weights and the learning-rate finder.

``WorkerTools`` is mixed into ``gui.worker.TrainingWorker``, which declares the signals
(``sigRunStep``, ``sigBestRestored``, ``sigLRFinder``, ``sigSteered``) and the state used here (its condition
variable, command queue, pause flags). Everything below the public methods runs on the worker
thread, inside the Trainer's step listeners and hooks (engine.training) or as queued commands.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from engine.names import RunState
from gui import backend_warmup, gc_freeze
from gui.worker_messages import describe_exception

log = logging.getLogger(__name__)

TOOL_COMMANDS = ("restore_best", "find_lr")
# Safe between two steps of a held (paused) epoch; any other command ends the hold (they all
# end or replace the run: new_run, load_checkpoint, stop).
HOLD_SERVES = ("save_checkpoint", "load_dataset", "extend", "job", "prepare", *TOOL_COMMANDS)
LR_PROGRESS_INTERVAL_S = 0.1  # the LR finder's progress signals: at most 10 a second
CONTROL_POLL_S = 0.2  # a paused run reads its control.jsonl this often (as a paused headless run does)


class WorkerTools:
    """Mixin of TrainingWorker (see the module docstring)."""

    # ------------------------------------------------------------------ commands (any thread)
    def restore_best(self) -> None:
        """Put the current run's lowest-validation-loss weights back; sigBestRestored(run_id, epoch)."""
        with self._cond:
            self._commands.append(("restore_best", self._run_id))
            self._cond.notify_all()

    def find_learning_rate(self, **options) -> None:
        """A learning-rate range test on a copy of the current weights (engine.lr_finder;
        ``options`` are its keyword arguments). sigLRFinder carries progress, then the result."""
        with self._cond:
            self._commands.append(("find_lr", self._run_id, dict(options)))
            self._cond.notify_all()

    def prepare(self, config, dataset) -> None:
        """Compile ahead the training step of a run of ``config`` on ``dataset`` (engine.precompile),
        between two steps of the current run, which goes on after it. The window asks for it
        while it asks the user whether to start that run; a newer request replaces one not begun."""
        with self._cond:
            self._drop_prepare()
            self._commands.append(("prepare", config, dataset))
            self._cond.notify_all()

    def cancel_prepare(self) -> None:
        """Drop a :meth:`prepare` not begun yet (the user kept the current run)."""
        with self._cond:
            self._drop_prepare()

    def _drop_prepare(self) -> None:
        kept = [command for command in self._commands if command[0] != "prepare"]
        self._commands.clear()
        self._commands.extend(kept)

    # ------------------------------------------------------------------ worker thread
    prewarm = True  # see _prewarm
    _prepared = None  # (config, dataset, Trainer) made ahead by _prepare, for _take_prepared

    def _prewarm(self) -> None:
        """First thing on the worker thread: PyTensor and JAX imported and XLA started
        (gui.backend_warmup: usually begun by the launch already, then this waits for it) while
        the GUI thread is still building the window, so the first run compiles sooner."""
        if self.prewarm:
            backend_warmup.warm_up()

    def _watch_steps(self, trainer, run_id: int) -> None:
        """Hook the new run's Trainer: StepReports to the window, the pause between two steps."""
        listeners = getattr(trainer, "step_listeners", None)
        if listeners is not None:
            listeners.append(partial(self._forward_step, run_id))
        hooks = getattr(trainer, "step_hooks", None)
        if hooks is not None:
            hooks.append(partial(self._hold_while_paused, run_id))

    def _forward_step(self, run_id: int, report) -> None:
        # The engine's StepMeter sends at most ~2 a second (and the first step of a new model at
        # once), so these never flood the window's queue. StepReport is frozen: safe to share.
        with self._cond:
            current = run_id == self._run_id
        if current:
            self.sigRunStep.emit(run_id, report)
            gc_freeze.resume_after_launch()  # the launch's first loss is on its way: collect again
            self._garbage.release()  # the replaced runs' garbage, once the new one has shown its loss

    def _held(self, run_id: int) -> bool:
        """Under the lock: the run is paused and this epoch was not asked for by a step."""
        return (not self._quit and run_id == self._run_id and self._paused and self._steps <= 0
                and not self._stepping)

    def _hold_while_paused(self, run_id: int) -> None:
        """Trainer step hook: a pause lands within one step, even in a long epoch. While held,
        inference and the commands in HOLD_SERVES are served; resume, a step, stop, a new run
        or quitting end the hold. A :meth:`prepare` lands here too while the run trains: within one step."""
        with self._cond:
            prepare = self._commands[0] if self._commands and self._commands[0][0] == "prepare" else None
            if prepare is not None:
                self._commands.popleft()
        if prepare is not None:
            self._run_command(prepare)
        while True:
            with self._cond:
                poll_at = time.monotonic() + CONTROL_POLL_S
                while (self._held(run_id) and not self._commands and not self._inference_due()
                       and time.monotonic() < poll_at):
                    self._cond.wait(0.1)
                if not self._held(run_id):
                    if run_id == self._run_id and self._paused and self._steps > 0:
                        self._steps -= 1  # "step one epoch" while held: finishing this one is that epoch
                        self._stepping = True
                    return
                command = self._commands[0] if self._commands else None
                if command is not None and command[0] not in HOLD_SERVES:
                    return  # it ends or replaces this run; the epoch ends at the stop it set
                if command is not None:
                    self._commands.popleft()
                infer = command is None and self._inference_due()
            if command is not None:
                self._run_command(command)
            elif infer:
                self._run_inference()
            else:
                self._obey_control_while_paused()

    # ------------------------------------------------------------------ control.jsonl (worker thread)
    def _obey_control(self) -> bool:
        """Apply what another process appended to the run's control.jsonl (rate, clip, pause, step,
        stop); True if it paused the run (then no step now). A ``step`` pauses it with one epoch to
        train (Run.request_step): this epoch is that one, or one more after it if already paused."""
        try:
            self._run.poll_control()
        except Exception:  # a steering file must never stop the window's own run
            log.exception("reading control.jsonl failed")
            return False
        stepped = self._run.take_step()
        if self._run.state is not RunState.PAUSED or (self._paused and not stepped):
            return False
        with self._cond:
            was_paused, self._paused = self._paused, True
            if was_paused:
                self._steps += 1  # this epoch was asked for already: the step is the next one
            else:
                self._steps = 0
                self._stepping = stepped  # a pause does not hold the stepped epoch
        if not was_paused:
            what = "one epoch, then paused" if stepped else "paused"
            self.sigSteered.emit(self._active_run, str(RunState.PAUSED), f"{what} through the run's control.jsonl")
        return not (stepped or was_paused)

    def _obey_control_while_paused(self) -> None:
        """A paused run reads its control.jsonl too (every CONTROL_POLL_S, without the lock): a
        resume, step or stop from another process or the Runs dock lands as it does headless."""
        run = self._run
        if run is None:
            return
        before = run.state  # a resume is a change seen here: a pause given now may not have reached the run yet
        try:
            run.poll_control()
        except Exception:  # a steering file must never stop the window's own run
            log.exception("reading control.jsonl failed")
            return
        stepped, resumed = run.take_step(), False
        with self._cond:
            if run is not self._run or not self._paused:
                return
            if run.stop_requested:
                self._commands.append(("stop", self._run_id))  # ends it as the toolbar's Stop does
            elif before in (RunState.PAUSED, RunState.DIVERGED) and run.state is RunState.RUNNING:
                self._paused, self._steps, resumed = False, 0, True
            elif stepped:
                self._steps += 1
            self._cond.notify_all()
        if resumed:
            self.sigSteered.emit(self._active_run, str(RunState.RUNNING), "resumed through the run's control.jsonl")

    def _prepare(self, config, dataset) -> None:
        self._prepared = None
        if self._trainer_factory is not None:
            return  # a stand-in trainer (tests): nothing of the engine's to compile
        from engine import precompile

        try:
            trainer, seconds = precompile.training_step(config, dataset)
        except Exception as exc:  # the run itself, if the user starts it, reports what is wrong
            log.info("compiling the next run's training step ahead failed: %s", describe_exception(exc))
            return
        log.info("compiled the next run's training step ahead in %.2f s", seconds)
        if trainer is not None:
            self._prepared = (config, dataset, trainer)

    def _take_prepared(self, config, dataset):
        """The trainer :meth:`_prepare` made, if the run to build is the one it was made for (it is
        dropped either way: a trainer is built once per run)."""
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared[0] == config and prepared[1] is dataset:
            return prepared[2]
        return None

    def _run_tool(self, command) -> None:
        name, run_id = command[0], command[1]
        if run_id != self._active_run or self._trainer is None:
            return  # asked of a run that has been replaced since
        if name == "restore_best":
            self._restore_best(run_id)
        else:
            self._find_learning_rate(run_id, command[2])

    def _restore_best(self, run_id: int) -> None:
        restore = getattr(self._trainer, "restore_best", None)
        epoch = restore() if restore is not None else 0
        if not epoch:
            return
        log.info("restored the best weights (epoch %d)", epoch)
        with self._cond:
            self._pending_predictions = True  # the panels follow the restored weights
            self._cond.notify_all()
        self.sigBestRestored.emit(run_id, epoch)

    def _find_learning_rate(self, run_id: int, options: dict) -> None:
        from engine.lr_finder import find_learning_rate

        last = [float("-inf")]

        def progress(done: int, steps: int) -> None:
            now = time.monotonic()
            if now - last[0] >= LR_PROGRESS_INTERVAL_S or done == steps:
                last[0] = now
                self.sigLRFinder.emit(run_id, {"done": done, "steps": steps})

        try:
            result = find_learning_rate(self._trainer, on_step=progress, **options)
        except Exception as exc:
            log.warning("learning-rate finder failed: %s", exc)
            self.sigLRFinder.emit(run_id, {"error": describe_exception(exc)})
            return
        self.sigLRFinder.emit(run_id, {"result": result})
