"""Helpers of the training worker that need no Qt: messages for the user, copies across threads,
the training thread's priority."""

from __future__ import annotations

import logging
import os
import threading
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


def divergence_message(report) -> str:
    """What happened and what to try, for a report with ``diverged`` set (its settings are the
    ones in force when it happened, after any live change)."""
    clip = report.clip_norm
    clip_text = "off" if not clip else f"{clip:g}"
    return (
        f"Training diverged in epoch {report.epoch}: {report.skipped_steps} step(s) produced a "
        f"non-finite loss or gradient and were refused, so the weights were not updated by them. "
        f"Training is paused.\n\nWhat to try: lower the learning rate (now "
        f"{report.learning_rate:.3g}), turn on or tighten gradient clipping (now {clip_text}), "
        f"use a smaller model or batch size, or switch to a GRU/LSTM cell. Then Resume, or "
        f"Reset weights to start over."
    )


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
