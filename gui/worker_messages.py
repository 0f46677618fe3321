"""Helpers of the training worker that need no Qt: messages for the user, copies across threads,
the training thread's priority, the garbage collector's pause while a run trains."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import traceback

import numpy as np

log = logging.getLogger(__name__)

WORKER_NICENESS = 5  # added to the training thread's niceness (lower priority than the GUI)


def copy_tree(value):
    """Deep-ish copy of inference results (dicts/lists of arrays) for handing across threads."""
    if isinstance(value, dict):
        return {k: copy_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(copy_tree(v) for v in value)
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        return np.array(value, copy=True)
    return value


def divergence_message(report, cell: str | None = None) -> str:
    """What happened and what to try, for a report with ``diverged`` set (its settings are the
    ones in force when it happened, after any live change; ``cell`` is the run's cell, so a GRU
    or LSTM is not told to switch to one)."""
    clip = report.clip_norm
    clip_text = "off" if not clip else f"{clip:g}"
    exploded = getattr(report, "exploded_loss", None)
    if exploded is not None:
        what = (f"a step's loss reached {exploded:.3g}, far above where the run started, so the epoch was "
                f"ended there before the weights ran away")
        if report.skipped_steps:
            what += f"; {report.skipped_steps} step(s) with a non-finite loss or gradient were refused"
    else:
        what = (f"{report.skipped_steps} step(s) produced a non-finite loss or gradient and were refused, "
                f"so the weights were not updated by them")
    tries = [f"lower the learning rate (now {report.learning_rate:.3g})",
             f"turn on or tighten gradient clipping (now {clip_text})", "use a smaller model or batch size"]
    if cell not in ("gru", "lstm"):
        tries.append("switch to a GRU/LSTM cell")
    good = getattr(report, "good_epoch", -1)
    back = (f"roll back to the weights of epoch {good} (the last good one)" if good > 0 else
            "roll back to the weights the run started from" if good == 0 else "")
    then = f"Then {back} and resume, or Reset weights to start over." if back else \
        "Then Resume, or Reset weights to start over."
    return (f"Training diverged in epoch {report.epoch}: {what}. Training is paused.\n\n"
            f"What to try: {', '.join(tries[:-1])}, or {tries[-1]}. {then}")


def lower_thread_priority() -> None:
    """Nice the training thread (Linux: niceness is per thread) so that on a busy machine the
    scheduler prefers the GUI thread; on an idle machine each thread has its own core anyway.
    QThread priorities are no-ops under Linux's default scheduler, hence setpriority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: not worth failing for
        log.debug("training thread priority unchanged: %s", exc)


def describe_exception(exc: BaseException) -> str:
    """The message a user sees: the exception's own text (engine errors say what to do)."""
    text = str(exc).strip()
    if isinstance(exc, ValueError) and text:
        return text
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last or type(exc).__name__


def remove_if_empty(folder) -> None:
    """The folder reserved for a run that was never built goes again (a folder with files stays)."""
    if folder is None:
        return
    try:
        os.rmdir(folder)
    except OSError:
        pass


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A user's bad file, setting or full disk (ValueError: CheckpointError, DataError) is one
    line in ``logger``, the dialog says the rest; anything else is a bug and keeps its traceback."""
    if isinstance(exc, ValueError):
        logger.warning("%s: %s", what, exc)
    else:
        logger.exception(what)


def stop_run(run) -> None:
    """Ask a run to stop after its current step (any thread; its epoch ends early)."""
    if run is None:
        return
    try:
        run.stop()
    except Exception:
        log.exception("Run.stop failed")


def training_graph(trainer):
    """``engine.graph_text.describe_training(trainer)``, or None (logged) when it cannot be printed:
    the Graph dock is a view, never a reason to stop training."""
    from engine.graph_text import describe_training

    try:
        return describe_training(trainer)
    except Exception:
        log.exception("printing the compiled graph failed")
        return None
