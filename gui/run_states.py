"""The window's groups of ``engine.names.RunState``: which states train, can still change, hold a
Trainer, or have ended, and what the Start button says in each (the window and its mixins share
them)."""

from __future__ import annotations

from engine.names import RunState

TRAINING = (RunState.COMPILING, RunState.RUNNING)  # the worker steps (or will once compiled)
ACTIVE_STATES = (*TRAINING, RunState.PAUSED)  # a run with epochs that can still change
LIVE_RUN = (*ACTIVE_STATES, RunState.READY)  # a Trainer exists and waits for commands
ENDED = (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)
START_TEXT = {RunState.RUNNING: "&Pause", RunState.COMPILING: "&Pause", RunState.PAUSED: "&Resume"}
