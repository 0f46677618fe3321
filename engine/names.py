"""The engine's vocabulary, declared once: every other module (engine, gui, main.py) imports it.

Standard library only, so the window, the command line and a tool reading run folders can use the
names without importing NumPy or PyTensor. Order matters where a tuple is shown to a user (the
first entry of CELLS, OPTIMIZERS, DTYPES and BACKENDS is the default).
"""

from __future__ import annotations

import enum

CELLS = ("elman", "gru", "lstm")  # recurrent cells; elman is the tutorial's
# Gate activations of each cell, in the order the probe's scan returns them (EpochReport.gates).
GATE_NAMES = {"elman": (), "gru": ("z", "r"), "lstm": ("i", "f", "o", "c")}
TASKS = ("classify_sequence", "next_token", "forecast")
# Blocks of each cell's recurrent matrix U (H, G*H), left to right (engine.model's gate order).
U_BLOCKS = {"elman": ("h",), "gru": ("z", "r", "n"), "lstm": ("i", "f", "o", "g")}
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
DTYPES = ("float32", "float64")
BACKENDS = ("jax", "c", "numba")
FORMATS = ("csv", "ucr", "ts", "text", "npy", "npz")  # data file formats engine.data reads

# Settings that change a run while it trains, with no recompile: Trainer.update(**changes) takes
# exactly these. Everything else in a TrainingConfig shapes the graph or the data and needs a new run.
LIVE_SETTINGS = ("learning_rate", "clip_norm", "momentum", "epochs", "probe_index", "patience")


class RunState(str, enum.Enum):
    """Where a run is in its life. ``interrupted`` is only ever read from a run folder whose
    writer died (kill -9, power cut) while it said ``running``/``paused``/``compiling``."""

    READY = "ready"
    COMPILING = "compiling"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_active(self) -> bool:
        """The run's process may still write to its folder."""
        return self in (RunState.READY, RunState.COMPILING, RunState.RUNNING, RunState.PAUSED,
                        RunState.DIVERGED)

    def __str__(self) -> str:
        return self.value


RUN_STATES = tuple(state.value for state in RunState)
