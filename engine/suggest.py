"""Suggested training settings computed from a dataset's size and shape.

One general rule, no per-dataset tables (issue 9). It reads only what the loader already knows
(number of sequences, their lengths, features, classes or vocabulary) and is cheap: no PyTensor,
so the window can call it the moment a file is loaded.

The rule, in order:

- **cell**: a gated cell. GRU for numeric data (three gates: cheaper than LSTM, and Elman's
  gradients vanish over the 100+ steps of a typical archive series); LSTM for text, where the
  separate cell state is the usual choice for characters.
- **frame** (a loading option, ``engine.data.framing``): a univariate series longer than
  ``FRAME_ABOVE`` steps, to be classified, is fed as frames of ``k = round(longest / FRAME_STEPS)``
  consecutive values, so the cell runs about ``FRAME_STEPS`` steps (ArrowHead's 251 steps as 32
  frames of 8: mean test accuracy over seeds 0-2 from 42.5 to 57.7 %, ``benchmarks/README.md``).
  Data already framed keeps its frame.
- **window**: a single numeric series whose training part gives fewer than ``MIN_WINDOWS``
  windows of the default length is cut into shorter ones (a power of two, at least
  ``MIN_WINDOW`` steps), so it is many training sequences, not one or two.
- **training examples** ``n``: sequences in the training part (80 % by default) for
  classification; windows (of the suggested window) for text and forecasting.
- **batch size**: a power of two near ``n / 8`` (about 8 optimizer steps per epoch or more),
  between 4 (or ``n`` when smaller) and 64. Archive sets have a few dozen series: small batches
  give them thousands of steps in a few hundred epochs, and their noise regularises.
- **hidden size**: a power of two near ``6 * sqrt(n)``, at least twice the number of outputs
  (many classes need room), between 16 and 256: 32 for the 30-60 series of a typical archive
  set (64 measured worse there: it fits the training series sooner and no better), 256 for a
  big text.
- **learning rate** (Adam): ``1e-3 * sqrt(batch / 4)`` between 1e-3 and 4e-3: smaller batches
  give noisier gradients and take smaller steps.
- **epochs**: enough for about ``TARGET_STEPS`` optimizer steps, between ``MIN_EPOCHS`` and
  ``MAX_EPOCHS`` (a budget in steps, not epochs: 100 epochs of 40 series are ~200 steps);
  **patience** a quarter of that (at least 10), so a run whose validation loss has stopped
  improving ends early and keeps its best weights (chosen on the validation split of the
  training file, never on a test file).

Measured on six UCR/UEA archive pairs (``benchmarks/bench_results.py``, README table): at or
above the 1-NN Euclidean accuracy on GunPoint, ItalyPowerDemand and BasicMotions, below it on
ArrowHead (57.7 % against 80.0 % even framed: the best validation loss of its 7 held-out series
comes early, and the test accuracy varies by 20 points between seeds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

TARGET_STEPS = 3000  # optimizer steps a small problem needs (a few thousand at most)
MIN_EPOCHS = 3  # even a huge text gets a few passes
MAX_EPOCHS = 300
MIN_HIDDEN, MAX_HIDDEN = 16, 256
MIN_BATCH, MAX_BATCH = 4, 64
MIN_PATIENCE = 10
FRAME_ABOVE, FRAME_STEPS = 64, 32  # a longer univariate series to classify is framed to ~FRAME_STEPS steps
MIN_WINDOWS, MIN_WINDOW = 32, 32  # a single series gives >= MIN_WINDOWS windows of >= MIN_WINDOW steps


@dataclass(frozen=True)
class Suggestion:
    """Suggested TrainingConfig fields and the one-line reason for them."""

    settings: dict  # TrainingConfig field -> value (cell, hidden_sizes, batch_size, learning_rate, epochs)
    patience: int  # epochs without a better validation loss before stopping
    reason: str  # one line: what was chosen and why
    examples: int = 0  # training examples the rule counted (sequences or windows)
    steps_per_epoch: int = 0
    details: dict = field(default_factory=dict)  # per setting: a few words of why
    frame: int = 1  # steps per frame: the loading option "frame" (engine.data.framing); 1 = as in the file

    def describe(self) -> str:
        s = self.settings
        sizes = ",".join(str(h) for h in s["hidden_sizes"])
        shape = (f", frames of {self.frame} steps" if self.frame > 1 else "") + (
            f", window {s['window']}" if s.get("window") else "")
        return (f"suggested: {s['cell']} {sizes}, batch {s['batch_size']}, lr {s['learning_rate']:.2g}, "
                f"{s['epochs']} epochs, patience {self.patience}{shape} ({self.reason})")


def _pow2_near(value: float) -> int:
    return 1 << max(int(round(math.log2(max(value, 1.0)))), 0)


def _clamp(value, low, high):
    return max(low, min(high, value))


def _train_steps(dataset, validation_fraction: float) -> float:
    steps = int(sum(max(int(L) - 1, 0) for L in dataset.lengths))  # every step but the last has a target
    return steps * (1 - validation_fraction)


def training_examples(dataset, validation_fraction: float = 0.2, window: int | None = None) -> int:
    """Examples in one training epoch: sequences (classification) or windows (text, forecast) of
    ``window`` steps (None: the dataset's default window)."""
    n_seq = int(dataset.n_sequences)
    if dataset.task == "classify_sequence":
        held_out = max(1, int(round(n_seq * validation_fraction))) if n_seq > 1 else 0
        return max(n_seq - held_out, 1)
    window = window or dataset.default_window() or 1
    return max(int(math.ceil(_train_steps(dataset, validation_fraction) / window)), 1)


def suggested_frame(dataset) -> int:
    """Steps per frame for ``dataset`` (see the module docstring); 1 = feed it as it is."""
    if dataset.frame != 1:
        return int(dataset.frame)
    if dataset.task != "classify_sequence" or dataset.is_text or dataset.n_features != 1:
        return 1
    longest = int(dataset.lengths.max())
    return max(2, int(round(longest / FRAME_STEPS))) if longest > FRAME_ABOVE else 1


def longest_text(dataset) -> str:
    """"longest 150 steps" or, framed, "longest 150 steps, as 30 frames of 5" (the file's steps first)."""
    lengths = dataset.lengths
    longest = int(lengths.max()) if len(lengths) else 0
    frame = int(getattr(dataset, "frame", 1))
    if frame == 1:
        return f"longest {longest} steps"
    original = getattr(dataset, "unframed", None)
    if original is None:
        return f"longest {longest} frames of {frame} steps"
    return f"longest {int(original.lengths.max())} steps, as {longest} frames of {frame}"


def suggested_window(dataset, validation_fraction: float = 0.2) -> int | None:
    """A shorter window for a single numeric series that the default window cuts into few pieces."""
    if dataset.is_text or dataset.task == "classify_sequence" or dataset.n_sequences != 1:
        return None
    default = dataset.default_window() or 1
    train_steps = _train_steps(dataset, validation_fraction)
    if train_steps / default >= MIN_WINDOWS:
        return None
    window = max(MIN_WINDOW, _pow2_near(train_steps / MIN_WINDOWS))
    return window if window < default else None


def suggest(dataset, validation_fraction: float = 0.2) -> Suggestion:
    """Settings that fit ``dataset`` (a SequenceDataset); see the module docstring for the rule."""
    window = suggested_window(dataset, validation_fraction)
    frame = suggested_frame(dataset)
    n = training_examples(dataset, validation_fraction, window)
    text = bool(dataset.is_text)
    cell = "lstm" if text else "gru"
    batch = int(_clamp(_pow2_near(n / 8), min(MIN_BATCH, n), MAX_BATCH))
    steps_per_epoch = int(math.ceil(n / batch))
    n_out = int(dataset.n_outputs)
    hidden = int(_clamp(max(_pow2_near(6 * math.sqrt(n)), _pow2_near(2 * n_out)), MIN_HIDDEN, MAX_HIDDEN))
    lr = float(_clamp(1e-3 * math.sqrt(batch / 4), 1e-3, 4e-3))
    lr = float(f"{lr:.2g}")
    epochs = int(_clamp(math.ceil(TARGET_STEPS / steps_per_epoch), MIN_EPOCHS, MAX_EPOCHS))
    patience = max(MIN_PATIENCE, epochs // 4)
    unit = "windows" if dataset.task != "classify_sequence" else "sequences"
    reason = (f"{n} training {unit} ({longest_text(dataset)}, {n_out} outputs): gated {cell}, "
              f"batch ~n/8, hidden ~6*sqrt(n), ~{epochs * steps_per_epoch} optimizer steps")
    details = {
        "cell": "lstm for text" if text else "gru: gated, cheaper than lstm",
        "batch_size": f"power of two near {n}/8, {min(MIN_BATCH, n)}..{MAX_BATCH}",
        "hidden_sizes": f"power of two near 6*sqrt({n}), >= 2*{n_out} outputs, {MIN_HIDDEN}..{MAX_HIDDEN}",
        "learning_rate": "adam, 1e-3*sqrt(batch/4) in 1e-3..4e-3",
        "epochs": f"~{TARGET_STEPS} steps at {steps_per_epoch} steps/epoch, {MIN_EPOCHS}..{MAX_EPOCHS}",
    }
    settings = {"cell": cell, "hidden_sizes": (hidden,), "batch_size": batch, "learning_rate": lr,
                "optimizer": "adam", "epochs": epochs}
    if window:
        settings["window"] = window
        details["window"] = f"{window} steps: >= {MIN_WINDOWS} training windows of one series"
    if frame > 1:
        details["frame"] = f"{frame} steps per frame: ~{FRAME_STEPS} steps of a long univariate series"
    return Suggestion(settings=settings, patience=patience, reason=reason, examples=n,
                      steps_per_epoch=steps_per_epoch, details=details, frame=frame)
