"""Headless mode: train from the command line, print progress, write results to a folder.

``python main.py --headless [FILE ...] --epochs N --out DIR`` trains an ``engine.runs.Run`` and
writes its run folder to DIR (run.json, metrics.csv, events.jsonl, checkpoint.npz, best.npz,
snapshots/, insights/; docs/RUN_FORMAT.md), then ``loss.png``, one ``hidden_layer{l}.png`` per layer
(l = 1, 2, ...), ``saliency.png``, ``trajectory.png`` and one ``spectrum_layer{l}.png`` per layer. ``--resume DIR --epochs M`` continues the run in DIR to M epochs, appending.
While it trains, another process may steer it through DIR/control.jsonl. The PNGs are drawn by
the window's own plot widgets on Qt's offscreen platform (``gui.headless_plots``), so no display
is needed; ``--no-plots`` skips them and never loads Qt's graphics libraries.

Before the first epoch everything that can be checked is: the data, the settings, that the PNGs
can be drawn, and that ``--out`` is writable and holds no earlier run (``gui.out_folder``). What
is printed and the exit codes (0, 2, 3 diverged, 130; 1 only for a bug) follow ``gui.cli_output``.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
import time
from functools import partial
from pathlib import Path

from engine.names import RunState
from gui.cli_flags import config_changes, dataset_paths, flag_for, load_options, saliency_step
from gui.headless_results import StepsCsv, TestSet, frame_as_suggested, suggested_changes
from gui.cli_output import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, Console, UsageError, json_number, write_line
from gui.out_folder import OutFolder, OutputError

__all__ = ["run_headless", "Progress", "DEFAULT_OUT", "UsageError", "config_changes"]

log = logging.getLogger(__name__)

DEFAULT_OUT = "rnn-scope-out"
# what the Run writes to its folder (docs/RUN_FORMAT.md), listed in the summary's "files"
RUN_FOLDER_FILES = ("run.json", "metrics.csv", "events.jsonl", "checkpoint.npz", "best.npz", "steps.csv")
BAR_WIDTH = 24

# settings that define the model a checkpoint holds: they cannot change on resume
_FIXED_ON_RESUME = ("cell", "hidden_sizes", "optimizer", "dtype", "seed", "batch_size")


def _given(args, name):
    return getattr(args, name, None)


def _load_dataset(args, console: Console):
    from engine.data import DataError, load_sequences

    files, notes = dataset_paths(args)
    for note in notes:
        console.progress(note)
    try:
        return load_sequences(files if len(files) > 1 else files[0], **load_options(args))
    except DataError as exc:
        raise UsageError(exc.render("cli")) from None  # an option that fixes it is named by its flag
    except OSError as exc:
        # DataError covers the files we can read; this is the operating system's refusal
        name = getattr(exc, "filename", None) or ", ".join(files)
        raise UsageError(f"{name}: {exc.strerror or exc}; check the path and its permissions") from None


def _build_trainer(args, dataset, defaults=None):
    """A new Trainer (``defaults`` under the flags given) or one restored from --checkpoint."""
    from engine.checkpoint import CheckpointError, framed_as, load
    from engine.training import Trainer, TrainingConfig

    changes = {**(defaults or {}), **config_changes(args)}
    checkpoint = _given(args, "checkpoint")
    if not checkpoint:
        try:
            config = TrainingConfig(**changes)
        except (TypeError, ValueError) as exc:
            raise UsageError(exc) from None
        try:
            return Trainer(config, dataset)
        except ValueError as exc:
            raise UsageError(exc) from None

    try:
        ck = load(checkpoint)
        dataset, _ = framed_as(ck, dataset)  # the file framed as the checkpoint was trained (_run says so)
        trainer = Trainer.load_checkpoint(ck, dataset, backend=changes.get("backend"))
    except (CheckpointError, ValueError, OSError) as exc:
        raise UsageError(exc) from None
    saved = trainer.config
    for field in _FIXED_ON_RESUME:
        if field in changes and changes[field] != getattr(saved, field):
            raise UsageError(
                f"{flag_for(field)} {changes[field]!r} differs from the checkpoint {checkpoint} "
                f"({getattr(saved, field)!r}); leave it out to resume, or start a new run without --checkpoint")
    epochs = changes.get("epochs", saved.epochs)
    if epochs <= trainer.epoch:
        raise UsageError(
            f"checkpoint {checkpoint} has already trained {trainer.epoch} epochs; "
            f"pass --epochs with a larger total (e.g. --epochs {trainer.epoch + 10}) to continue")
    try:
        # epochs count across resumes; backend (above) and learning rate may change freely
        trainer.update(epochs=epochs, learning_rate=changes.get("learning_rate", saved.learning_rate))
    except (TypeError, ValueError) as exc:
        raise UsageError(exc) from None
    return trainer


class Progress:
    """One progress line per epoch on stderr; redrawn in place on a terminal, appended otherwise.

    ``quiet`` (``--quiet``) silences it; :meth:`notice` is shown even then.
    """

    def __init__(self, total: int, stream=None, *, quiet: bool = False):
        self.total = total
        self._stream = stream
        self.quiet = quiet
        isatty = getattr(self.stream, "isatty", None)
        self.in_place = bool(isatty and isatty())
        self._open_line = False

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stderr

    def line(self, report) -> str:
        done = min(max(report.epoch, 0), self.total)
        filled = int(round(BAR_WIDTH * done / self.total)) if self.total else BAR_WIDTH
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        width = len(str(self.total))
        text = (f"epoch {report.epoch:>{width}}/{self.total} [{bar}] "
                f"train {_fmt(report.train_loss)}  val {_fmt(report.val_loss)}")
        if report.val_accuracy is not None:
            text += f"  acc {report.val_accuracy:.1%}"
        if report.sequences_per_second > 0:  # 0 on the epoch whose only step compiled
            text += f"  {report.sequences_per_second:,.0f} seq/s"
        if report.compile_seconds:
            text += f"  (compiled in {report.compile_seconds:.1f} s)"
        if report.diverged:
            text += f"  [{report.skipped_steps} non-finite step(s) skipped]"
        if report.stopped:
            text += "  [stopped]"
        if getattr(report, "early_stopped", False):  # reports restored from elsewhere may lack it
            text += f"  [early stop: no better validation loss since epoch {report.best_epoch}]"
        return text

    def update(self, report) -> None:
        if self.quiet:
            return
        text = self.line(report)
        if self.in_place:
            self.stream.write("\r\x1b[2K" + text)
            self._open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def partial(self, step) -> None:
        """A partial report within a long epoch: redrawn in place on a terminal only (logs stay short)."""
        if not self.in_place:
            return
        self.stream.write(f"\r\x1b[2Kepoch {step.epoch}/{self.total}  step {step.step}/{step.steps_in_epoch}  "
                          f"train {_fmt(step.train_loss)}  {step.steps_per_s:,.1f} steps/s  ETA {step.eta_s:,.0f} s")
        self.stream.flush()
        self._open_line = True

    def message(self, text: str) -> None:
        if not self.quiet:
            self.notice(text)

    def notice(self, text: str) -> None:
        self.finish()
        write_line(self.stream, text)

    def finish(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _fmt(value) -> str:
    return f"{value:.4f}" if value is not None and math.isfinite(value) else "nan"


class _StopOnInterrupt:
    """First Ctrl+C asks the run to stop after the current step; a second one aborts."""

    def __init__(self, run, progress: Progress):
        self.run = run
        self.progress = progress
        self.interrupted = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.run.stop()
        self.progress.notice("interrupted: stopping after the current step and writing the results so far "
                             "(press Ctrl+C again to abort)")

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave the default behaviour
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def control_note(event: dict) -> str | None:
    """The console's line for a command another process appended to control.jsonl (the window's
    toolbar, a script), so a paused run does not look hung; None for the run's own events."""
    from engine.run_reader import change_text

    kind, epoch = event.get("kind"), event.get("epoch")
    if kind == "rejected":
        return f"control.jsonl line {event.get('line')} rejected: {event.get('reason')}"
    if event.get("source") != "control":
        return None
    if kind == "set":
        return f"control.jsonl: {change_text(event.get('name'), event.get('old'), event.get('new'))} after epoch {epoch}"
    what = {"pause": "paused", "resume": "resumed", "step": "one epoch, then paused", "stop": "stopping"}
    return f"control.jsonl: {what.get(kind, kind)} after epoch {epoch}"


def _say_control(progress: Progress, event: dict) -> None:
    text = control_note(event)
    if text is not None:
        progress.message(text)


def _train(run, progress: Progress):
    """Run the run's epochs (reading its control.jsonl between them); returns (the last report or
    None if no epoch finished, whether Ctrl+C stopped it)."""
    last = None
    with _StopOnInterrupt(run, progress) as guard:
        try:
            for report in run.epochs():
                progress.total = run.config.epochs  # control.jsonl may extend the run
                progress.update(report)
                last = report
        except KeyboardInterrupt:
            # second Ctrl+C (or one during compiling): keep what has been trained so far
            guard.interrupted = True
            run.stop()
            run.step()  # ends the run: writes the checkpoint of the last complete epoch
        progress.finish()
    return last, guard.interrupted


def _saliency_step(args, trainer) -> int | None:
    """--saliency-step for this run's probe (None: the last); refused if the probe has no such step."""
    from engine.insights import InsightProbe

    step = saliency_step(args)
    problem = InsightProbe(trainer).step_problem(step)
    if problem:
        raise UsageError(f"--saliency-step {step}: {problem}")
    return step


def _open_run(args, out: OutFolder, dataset, defaults=None):
    """The Run headless mode trains (resumed in place with --resume DIR, or new in ``out``) and its
    --test set; the settings and the test set are checked before the folder is touched."""
    from engine.checkpoint import CheckpointError
    from engine.run_reader import RunFolderError
    from engine.runs import Run

    resume = _given(args, "resume")
    try:
        if resume:
            changes = config_changes(args)
            out.prepare()
            run = Run.reopen(resume, dataset, epochs=_given(args, "epochs"), backend=changes.get("backend"))
            run.insights.set_step(_saliency_step(args, run.trainer))
            return run, _test_set(args, run.trainer)
        trainer = _build_trainer(args, dataset, defaults)
        test = _test_set(args, trainer)
        step = _saliency_step(args, trainer)
        out.prepare()  # before any epoch: writable, and no earlier results unless --overwrite/--resume
        run = Run.create(trainer, trainer.dataset, out.path, overwrite=bool(_given(args, "overwrite")),
                         test_columns=bool(test and test.every))
        run.insights.set_step(step)
        return run, test
    except OSError as exc:  # e.g. a full disk while the run folder is created: name the folder
        raise UsageError(f"cannot write the run folder {exc.filename or out.path}: {exc.strerror or exc}; "
                         "free some space or choose another --out") from None
    except (RunFolderError, CheckpointError, ValueError) as exc:
        raise UsageError(exc) from None


def _suggested(args, dataset) -> tuple:
    """--suggested: the data framed as suggested (unless --frame was given), settings from it under
    the flags given, and the header line."""
    if not _given(args, "suggested"):
        return dataset, {}, None
    if _given(args, "checkpoint") or _given(args, "resume"):
        raise UsageError("--suggested chooses the settings of a new run; leave it out to resume a run")
    dataset = frame_as_suggested(dataset, load_options(args))
    return (dataset, *suggested_changes(dataset, config_changes(args)))


def _test_set(args, trainer):
    """--test FILE (and --test-every K) for ``trainer``; UsageError naming both files if it does not fit."""
    from engine.data import DataError

    path = _given(args, "test")
    if not path:
        if _given(args, "test_every"):
            raise UsageError("--test-every K scores the --test FILE every K epochs; give --test FILE too")
        return None
    try:
        return TestSet(path, trainer, every=_given(args, "test_every"))
    except DataError as exc:
        raise UsageError(exc.render("cli")) from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}; check the path and its permissions") from None


def _out_folder(args) -> Path:
    resume, out = _given(args, "resume"), _given(args, "out")
    if resume and out and Path(out).resolve() != Path(resume).resolve():
        raise UsageError(f"--resume {resume} continues that run in its own folder; leave out --out {out}")
    return Path(resume or out or DEFAULT_OUT)


def _write_outputs(out: OutFolder, args, trainer, last, title: str, plots: bool, progress: Progress,
                   insights=None) -> None:
    """The PNGs (and TensorBoard files) next to the run folder; UsageError naming the file if one
    cannot be written (the Run has written its own files, checkpoint.npz included, as it went)."""
    try:
        if plots:
            if last is None:
                progress.message("no epoch finished, so there are no hidden states to draw")
            from gui.headless_plots import render_pngs

            render_pngs(out, trainer.history, last, title, insights=insights, dataset=trainer.dataset)
        if _given(args, "tensorboard"):
            from engine.tensorboard_export import export_run

            out.written.append(Path(export_run(out.path)))
    except ImportError as exc:  # the tensorboard extra is not installed
        raise UsageError(exc) from None
    except OSError as exc:
        done = ", ".join(p.name for p in out.written) or "no PNG"
        raise UsageError(f"{exc}; written before it: the run folder, {done}; the other files in {out.path} are "
                         "as they were (free some space or choose another --out)") from None


def _best(history: list[dict]) -> dict:
    """The epoch with the lowest validation loss (training loss if there is none)."""
    key = "val_loss" if any(json_number(h.get("val_loss")) is not None for h in history) else "train_loss"
    finite = [h for h in history if json_number(h.get(key)) is not None]
    if not finite:
        return {"epoch": None, "train_loss": None, "val_loss": None, "val_accuracy": None}
    best = min(finite, key=lambda h: h[key])
    return _losses(best)


def _losses(entry: dict) -> dict:
    return {"epoch": entry.get("epoch"), "train_loss": json_number(entry.get("train_loss")),
            "val_loss": json_number(entry.get("val_loss")), "val_accuracy": json_number(entry.get("val_accuracy"))}


def _ended_diverged(history: list[dict]) -> bool:
    """Non-finite steps were refused and the last epoch has no finite validation loss: the run
    trained nothing usable (``--lr 1e38`` exited 0 with NaN losses), so it must not look like success."""
    return (bool(history) and json_number(history[-1].get("val_loss")) is None
            and any(h.get("diverged") for h in history))


def _summary(trainer, dataset, out: OutFolder, interrupted: bool, plots: bool, seconds: float,
             removed: list) -> dict:
    """What ``--json`` prints: the machine-readable result of the run."""
    history = trainer.history
    run_files = sorted(p for p in out.path.iterdir() if p.is_file() and p.name in RUN_FOLDER_FILES)
    files = {p.name: str(p) for p in [*run_files, *out.written]}
    status = "interrupted" if interrupted else "diverged" if _ended_diverged(history) else "finished"
    return {
        "status": status,
        "exit_code": {"interrupted": EXIT_INTERRUPTED, "diverged": EXIT_DIVERGED}.get(status, EXIT_OK),
        "dataset": dataset.name,
        "task": dataset.task,
        "epochs": trainer.epoch,
        "epochs_requested": trainer.config.epochs,
        "seconds": round(seconds, 3),
        "final": _losses(history[-1]) if history else _losses({}),
        "best": _best(history),
        "out": str(out.path),
        "files": files,
        "plots": plots,
        "removed": [p.name for p in removed],
    }


def _summary_line(summary: dict) -> str:
    names = ", ".join(summary["files"])
    best = summary["best"]
    text = (f"interrupted after epoch {summary['epochs']} of {summary['epochs_requested']} (Ctrl+C); "
            f"the {_plural(summary['epochs'], 'epoch')} done were written"
            if summary["status"] == "interrupted" else
            f"diverged: {_plural(summary['epochs'], 'epoch')} in {summary['seconds']:.1f} s and no finite "
            "validation loss at the end (non-finite steps were skipped, see events.jsonl); lower --lr"
            if summary["status"] == "diverged" else
            f"done: {_plural(summary['epochs'], 'epoch')} in {summary['seconds']:.1f} s")
    if best["epoch"] is not None:
        which = "val" if best["val_loss"] is not None else "train"
        text += f"; best {which} loss {_fmt(best[which + '_loss'])} at epoch {best['epoch']}"
    text += f"; wrote {names} to {summary['out']}"
    if not summary["plots"]:
        text += " (no PNGs: --no-plots)"
    if summary["removed"]:
        text += f"; removed the earlier run's {', '.join(summary['removed'])}"
    return text


def _check_plots(args) -> bool:
    """Whether PNGs are wanted; UsageError (before any work) if they are but cannot be drawn."""
    if _given(args, "no_plots"):
        return False
    from gui.headless_plots import plots_problem

    problem = plots_problem()
    if problem:
        raise UsageError(problem)
    return True


def _score_test(test, run, progress) -> dict | None:
    """--test: restore the best weights (checkpoint.npz keeps the last), score, record in run.json;
    returns what was recorded (None without a test set or a trained epoch)."""
    if test is None or not run.trainer.epoch:
        return None
    result = test.final()
    progress.message(result.describe())
    record = {**result.to_json(), "file": test.path}
    run.set_test(record)
    return record


def run_headless(args) -> int:
    """Train without a window (see the module docstring); returns the process exit code."""
    from engine import backend

    backend.configure(_given(args, "backend"))  # idempotent: main.py did it before the heavy imports
    console = Console.from_args(args)
    try:
        return _run(args, console)
    except UsageError as exc:
        return console.fail(exc)


def _run(args, console: Console) -> int:
    plots = _check_plots(args)
    out_path = _out_folder(args)
    resume = _given(args, "resume")
    given_data = _given(args, "files") or _given(args, "sample")
    dataset = _load_dataset(args, console) if (given_data or not resume) else None
    dataset, defaults, suggested = _suggested(args, dataset)
    out = OutFolder(out_path, overwrite=bool(_given(args, "overwrite")), resume=bool(resume))
    run, test = _open_run(args, out, dataset, defaults)
    try:
        steps = StepsCsv(out_path / "steps.csv")  # partial reports of long epochs, flushed as they come
    except OSError as exc:
        raise UsageError(f"cannot write {out_path / 'steps.csv'}: {exc.strerror or exc}; "
                         "choose another --out folder") from None
    run.pause_on_divergence = False  # nobody is there to resume it; the report says what was skipped
    run.insights.enabled = plots  # saliency, trajectories, U's spectrum: insights/ and their PNGs
    given, (trainer, dataset) = dataset, (run.trainer, run.trainer.dataset)
    config = trainer.config
    log.info("headless run: %s -> %s with %s", dataset.name, out.path, config)
    progress = Progress(total=config.epochs, quiet=console.quiet)
    sizes = ",".join(str(h) for h in config.hidden_sizes)
    source = resume or _given(args, "checkpoint")
    progress.message(
        f"{dataset.name}: {dataset.task}, {_plural(dataset.n_sequences, 'sequence')} · {config.cell} ({sizes}) · "
        f"{config.optimizer} lr {config.learning_rate:g} · epochs {trainer.epoch + 1}..{config.epochs}"
        + (f" · resumed from {source}" if source else ""))
    if suggested:
        progress.message(suggested)
    if given is not None and getattr(given, "frame", 1) != getattr(dataset, "frame", 1):
        from engine.data.framing import reframed_note

        progress.message(f"{source}: {reframed_note(dataset.frame, given.frame)}")
    trainer.step_listeners.extend([steps, progress.partial])
    run.listeners.append(partial(_say_control, progress))  # a steered run says so on the console
    started = time.perf_counter()
    try:
        last, interrupted = _train(run, progress)
    except ValueError as exc:
        # e.g. a dataset the model cannot be built for: a setting the user can change
        raise UsageError(exc) from None
    finally:
        run.close()
        steps.close()
    if run.state is RunState.FAILED:
        raise UsageError(run.message)
    tested = _score_test(test, run, progress)
    title = f"{dataset.name} · {config.cell} ({sizes}) · {config.optimizer}"
    _write_outputs(out, args, trainer, last, title, plots, progress, run.insights)
    removed = out.finish()
    summary = _summary(trainer, dataset, out, interrupted, plots, time.perf_counter() - started, removed)
    if tested is not None:
        summary["test"] = tested  # as in run.json: accuracy or loss, n, the epoch of the weights scored
    log.info("headless run ended: %s", summary)
    console.result(_summary_line(summary), summary)
    return summary["exit_code"]
