"""Rebuild the bundled sample data sets (deterministic: same files on every run).

    python resources/samples/make_samples.py            # all samples
    python resources/samples/make_samples.py --check    # verify the committed files are up to date

sine_forecast.csv    64 noisy multi-frequency sine series x 200 steps, one series per row
                     (the "rows" layout, no header); the default data set, task forecast.
waveforms_TRAIN.tsv  200 noisy waveforms (sine, square, sawtooth, triangle) in UCR layout:
                     class label (1-4) then the values, tab-separated, NaN-padded to 64
                     (lengths 48-64); task classify_sequence.
words.txt            every third lowercase ASCII word of Debian's wamerican list
                     (/usr/share/dict/words, SCOWL licence, see words_COPYRIGHT.txt);
                     task next_token ("make up new words").

Only numpy is needed; words.txt needs /usr/share/dict/words (``apt-get install wamerican``) and is
committed, so a checkout does not need it.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS_SOURCE = "/usr/share/dict/words"
WAVEFORM_CLASSES = ("sine", "square", "sawtooth", "triangle")


def make_sines(n_series: int = 64, length: int = 200, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = io.StringIO()
    for _ in range(n_series):
        n_waves = rng.integers(2, 4)
        periods = rng.choice([8, 12, 16, 25, 40, 50], size=n_waves, replace=False)
        series = np.zeros(length)
        for period in periods:
            amplitude = rng.uniform(0.3, 1.0)
            phase = rng.uniform(0, 2 * np.pi)
            series += amplitude * np.sin(2 * np.pi * t / period + phase)
        series += rng.normal(0.0, 0.1, size=length)
        out.write(",".join(f"{v:.4f}" for v in series) + "\n")
    return out.getvalue()


def _waveform(kind: str, phase: np.ndarray) -> np.ndarray:
    frac = np.mod(phase / (2 * np.pi), 1.0)
    if kind == "sine":
        return np.sin(phase)
    if kind == "square":
        return np.where(frac < 0.5, 1.0, -1.0)
    if kind == "sawtooth":
        return 2.0 * frac - 1.0
    return 1.0 - 4.0 * np.abs(frac - 0.5)   # triangle


def make_waveforms(n_per_class: int = 50, max_length: int = 64, seed: int = 2) -> str:
    rng = np.random.default_rng(seed)
    rows = []
    for label, kind in enumerate(WAVEFORM_CLASSES, start=1):
        for _ in range(n_per_class):
            length = int(rng.integers(48, max_length + 1))
            cycles = rng.uniform(1.5, 3.0)
            phase = 2 * np.pi * cycles * np.arange(length) / length + rng.uniform(0, 2 * np.pi)
            values = rng.uniform(0.7, 1.3) * _waveform(kind, phase) + rng.uniform(-0.2, 0.2)
            values += rng.normal(0.0, 0.15, size=length)
            padded = np.full(max_length, np.nan)
            padded[:length] = values
            rows.append((label, padded))
    order = rng.permutation(len(rows))
    out = io.StringIO()
    for i in order:
        label, padded = rows[i]
        cells = ["NaN" if np.isnan(v) else f"{v:.4f}" for v in padded]
        out.write(f"{label}\t" + "\t".join(cells) + "\n")
    return out.getvalue()


def make_words(source: str = WORDS_SOURCE, every: int = 3) -> str | None:
    if not os.path.exists(source):
        return None
    with open(source, encoding="utf-8") as f:
        words = [w.strip() for w in f]
    words = [w for w in words if re.fullmatch(r"[a-z]+", w)][::every]
    # Shuffled: in dictionary order the validation part (the last fifth) would be only words
    # from "s" to "z", and a model learns "the next word shares this prefix" instead of English.
    np.random.default_rng(3).shuffle(words)
    return "\n".join(words) + "\n"


def build(words_source: str = WORDS_SOURCE) -> dict:
    files = {"sine_forecast.csv": make_sines(), "waveforms_TRAIN.tsv": make_waveforms()}
    words = make_words(words_source)
    if words is not None:
        files["words.txt"] = words
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files match")
    parser.add_argument("--words", default=WORDS_SOURCE, help="word list to sample words.txt from")
    parser.add_argument("--out", default=HERE, help="output folder (default: this folder)")
    args = parser.parse_args(argv)
    files = build(args.words)
    if "words.txt" not in files:
        print(f"{args.words} not found (apt-get install wamerican); words.txt left as it is", file=sys.stderr)
    stale = []
    for name, content in files.items():
        path = os.path.join(args.out, name)
        if args.check:
            with open(path, encoding="utf-8", newline="") as f:
                if f.read() != content:
                    stale.append(name)
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        print(f"wrote {path} ({len(content.encode()) / 1024:.0f} KB)")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
