"""Headless mode: train from the command line, print progress, write results to a folder.

``python main.py --headless [FILE ...] --epochs N --out DIR`` trains an ``engine.runs.Run`` and
writes its run folder to DIR (run.json, metrics.csv, events.jsonl, checkpoint.npz, best.npz,
snapshots/; docs/RUN_FORMAT.md), then ``loss.png`` and one ``hidden_layer{l}.png`` per layer
(l = 1, 2, ...). ``--resume DIR --epochs M`` continues the run in DIR to M epochs, appending.
While it trains, another process may steer it through DIR/control.jsonl. The PNGs are drawn by
the window's own plot widgets on Qt's offscreen platform, so no display is needed.

Exit codes: 0 on success (also after Ctrl+C: the run stops at the next step and its results are
still written), 2 with a one-line message on stderr when the input or a setting is bad.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from pathlib import Path

from engine.names import RunState
from gui.cli_flags import config_changes, flag_for
from gui.headless_results import StepsCsv, TestSet, suggested_changes

DEFAULT_OUT = "rnn-scope-out"
BAR_WIDTH = 24

# settings that define the model a checkpoint holds: they cannot change on resume
_FIXED_ON_RESUME = ("cell", "hidden_sizes", "optimizer", "dtype", "seed", "batch_size")


class UsageError(Exception):
    """Bad input or settings: reported as one line on stderr, exit code 2."""


def _one_line(message) -> str:
    return " ".join(str(message).split())


def _fail(message) -> int:
    print(f"rnn-scope: error: {_one_line(message)}", file=sys.stderr)
    return 2


def _given(args, name):
    return getattr(args, name, None)


def _load_dataset(args):
    from engine.data import DataError, load_sequences

    files = list(_given(args, "files") or [])
    if not files:
        import resources

        files = [str(resources.default_dataset_path())]
    try:
        return load_sequences(files if len(files) > 1 else files[0])
    except DataError as exc:
        raise UsageError(exc) from None
    except OSError as exc:
        # DataError covers the files we can read; this is the operating system's refusal
        name = getattr(exc, "filename", None) or ", ".join(files)
        raise UsageError(f"{name}: {exc.strerror or exc}; check the path and its permissions") from None


def _build_trainer(args, dataset, defaults=None):
    """A new Trainer (``defaults`` under the flags given) or one restored from --checkpoint."""
    from engine.checkpoint import CheckpointError
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
        trainer = Trainer.load_checkpoint(checkpoint, dataset, backend=changes.get("backend"))
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
    """One text progress line per epoch; redrawn in place on a terminal, appended otherwise."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.in_place = bool(isatty and isatty())
        self._open_line = False

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
        self.finish()
        self.stream.write(text + "\n")
        self.stream.flush()

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
        self.progress.message("interrupted: stopping after the current step and writing results "
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


def _train(run, progress: Progress):
    """Run the run's epochs (reading its control.jsonl between them); returns the last report
    (None if no epoch finished)."""
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
        if guard.interrupted:
            progress.message(f"stopped after epoch {run.epoch}")
    return last


def _open_run(args, out: Path, dataset, defaults=None):
    """The Run headless mode trains (resumed in place with --resume DIR, or new in ``out``) and its
    --test set, checked before a new folder is written."""
    from engine.checkpoint import CheckpointError
    from engine.run_reader import RunFolderError
    from engine.runs import Run

    resume = _given(args, "resume")
    try:
        if resume:
            changes = config_changes(args)
            run = Run.reopen(resume, dataset, epochs=_given(args, "epochs"), backend=changes.get("backend"))
            return run, _test_set(args, run.trainer)
        trainer = _build_trainer(args, dataset, defaults)
        test = _test_set(args, trainer)
        run = Run.create(trainer, dataset, out, overwrite=bool(_given(args, "overwrite")),
                         test_columns=bool(test and test.every))
        return run, test
    except (RunFolderError, CheckpointError, ValueError, OSError) as exc:
        raise UsageError(exc) from None


def _suggested(args, dataset) -> tuple[dict, str | None]:
    """--suggested: settings from the data under the flags given, and the header line."""
    if not _given(args, "suggested"):
        return {}, None
    if _given(args, "checkpoint") or _given(args, "resume"):
        raise UsageError("--suggested chooses the settings of a new run; leave it out to resume a run")
    return suggested_changes(dataset, config_changes(args))


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
        raise UsageError(exc) from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}; check the path and its permissions") from None


# Harmless notes the offscreen platform prints; they would bury the progress output.
_QUIET_QT_MESSAGES = ("propagateSizeHints", "XDG_RUNTIME_DIR")


def _qt_message(mode, context, message) -> None:
    if not any(note in message for note in _QUIET_QT_MESSAGES):
        sys.stderr.write(message + "\n")


def _ensure_qapp():
    # Only rendering the PNGs needs Qt; offscreen unless the user chose a platform.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.qInstallMessageHandler(_qt_message)
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "rnn-scope"])
    from gui.plots.style import configure

    configure()  # pyqtgraph's global options, before any plot is built
    return app


def render_pngs(out: Path, history: list[dict], last_report, title: str = "") -> list[Path]:
    """loss.png from the history and hidden_layer{l}.png from the last report's hidden states."""
    app = _ensure_qapp()
    from gui.plots import HiddenStatePanel, LossPlot, export_plot

    written = []
    loss_plot = LossPlot()
    loss_plot.resize(900, 540)
    if title:
        loss_plot.plot_item.setTitle(title)
    epochs = [h.get("epoch") for h in history]
    train = [h.get("train_loss") if h.get("train_loss") is not None else math.nan for h in history]
    val = [h.get("val_loss") if h.get("val_loss") is not None else math.nan for h in history]
    loss_plot.extend(epochs, train, val)
    previous_lr = None
    for h in history:
        lr = h.get("learning_rate")
        if previous_lr is not None and lr is not None and lr != previous_lr:
            loss_plot.add_marker(h["epoch"], f"lr {previous_lr:.3g} -> {lr:.3g}")
        previous_lr = lr if lr is not None else previous_lr
    loss_plot.show()
    app.processEvents()
    path = out / "loss.png"
    export_plot(loss_plot, path)
    written.append(path)
    loss_plot.close()
    loss_plot.deleteLater()

    if last_report is not None and last_report.hidden:
        panel = HiddenStatePanel()
        panel.resize(900, 420 * len(last_report.hidden) + 200)
        panel.set_snapshot(last_report.epoch, last_report.hidden, last_report.gates)
        panel.show()
        app.processEvents()
        for layer in range(len(last_report.hidden)):
            path = out / f"hidden_layer{layer + 1}.png"
            image = panel.render_layer_image(layer)
            if not image.save(str(path), "PNG"):
                raise OSError(f"could not write {path}: check that the folder is writable")
            written.append(path)
        panel.close()
        panel.deleteLater()
    app.processEvents()
    return written


def _out_folder(args) -> Path:
    resume, out = _given(args, "resume"), _given(args, "out")
    if resume and out and Path(out).resolve() != Path(resume).resolve():
        raise UsageError(f"--resume {resume} continues that run in its own folder; leave out --out {out}")
    return Path(resume or out or DEFAULT_OUT)


def _score_test(test, run, progress) -> None:
    """--test: restore the best weights (checkpoint.npz keeps the last), score, record in run.json."""
    if test is None or not run.trainer.epoch:
        return
    result = test.final()
    progress.message(result.describe())
    run.set_test({**result.to_json(), "file": test.path})


def run_headless(args) -> int:
    """Train without a window (see the module docstring); returns the process exit code."""
    from engine import backend

    backend.configure(_given(args, "backend"))  # idempotent: main.py did it before the heavy imports
    try:
        out = _out_folder(args)
        dataset = _load_dataset(args) if (_given(args, "files") or not _given(args, "resume")) else None
        defaults, suggested = _suggested(args, dataset)
        run, test = _open_run(args, out, dataset, defaults)
        steps = StepsCsv(out / "steps.csv")  # partial reports of long epochs, flushed as they come
    except UsageError as exc:
        return _fail(exc)
    except OSError as exc:
        return _fail(f"cannot write {out / 'steps.csv'}: {exc.strerror or exc}; choose another --out folder")
    run.pause_on_divergence = False  # nobody is there to resume it; the report says what was skipped
    trainer, dataset = run.trainer, run.trainer.dataset
    config = trainer.config
    progress = Progress(total=config.epochs)
    sizes = ",".join(str(h) for h in config.hidden_sizes)
    source = _given(args, "resume") or _given(args, "checkpoint")
    progress.message(
        f"{dataset.name}: {dataset.task}, {_plural(dataset.n_sequences, 'sequence')} · {config.cell} ({sizes}) · "
        f"{config.optimizer} lr {config.learning_rate:g} · epochs {trainer.epoch + 1}..{config.epochs}"
        + (f" · resumed from {source}" if source else ""))
    if suggested:
        progress.message(suggested)
    trainer.step_listeners.extend([steps, progress.partial])
    started = time.perf_counter()
    try:
        last = _train(run, progress)
    except ValueError as exc:
        # e.g. a dataset the model cannot be built for: a setting the user can change
        return _fail(exc)
    finally:
        run.close()
        steps.close()
    if run.state is RunState.FAILED:
        return _fail(run.message)
    _score_test(test, run, progress)
    try:
        if last is None:
            progress.message("no epoch finished, so there are no hidden states to draw")
        title = f"{dataset.name} · {config.cell} ({sizes}) · {config.optimizer}"
        written = render_pngs(out, trainer.history, last, title)
        if _given(args, "tensorboard"):
            from engine.tensorboard_export import export_run

            written.append(export_run(out))
    except ImportError as exc:  # the tensorboard extra is not installed
        return _fail(exc)
    except OSError as exc:
        return _fail(f"cannot write the results to {out}: {exc.strerror or exc}; choose another --out folder")
    progress.message(
        f"done: {trainer.epoch} epoch(s) in {time.perf_counter() - started:.1f} s; wrote the run folder "
        f"(run.json, metrics.csv, steps.csv, events.jsonl, checkpoint.npz, snapshots/) and "
        + ", ".join(p.name for p in written) + f" to {out}")
    return 0
