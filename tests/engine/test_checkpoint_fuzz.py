"""Fuzzed checkpoints: every mutated file is a CheckpointError or loads, nothing else escapes.

Mutations: byte flips anywhere, truncation, zip header fields (local and central), and edits of
the JSON metadata inside a well-formed archive (so the CRC passes and the validators are reached).
The loads run ``Trainer.check_checkpoint``, which does every check short of building the model.
Bounded: a few hundred examples of ~1 ms each.
"""

import json
import os
import struct
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import checkpoint, optim
from engine.checkpoint import CheckpointError
from engine.data import SequenceDataset
from engine.training import Trainer, TrainingConfig, _model_spec

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
                database=None)


def _dataset():
    t = np.arange(30)
    return SequenceDataset(sequences=[np.stack([np.sin(0.3 * t + p), np.cos(0.2 * t)], 1) * 3 + 1
                                      for p in range(6)], task="forecast", name="fuzz")


DATASET = _dataset()


def _good_bytes() -> bytes:
    config = TrainingConfig(cell="gru", hidden_sizes=(3, 2), optimizer="adam", epochs=3)
    shapes = _model_spec(config, DATASET).param_shapes()
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    state = {k: np.zeros(s, np.float32) for k, s in optim.state_shapes("adam", shapes).items()}
    history = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "val_accuracy": None, "grad_norms": {"layer1": 0.1},
                "weight_norms": {"layer1": 1.0}, "diverged": False, "skipped_steps": 0, "stopped": False}]
    split = DATASET.split(validation_fraction=config.validation_fraction, seed=0)
    with tempfile.TemporaryDirectory() as folder:
        path = checkpoint.save(os.path.join(folder, "good.npz"), params, config.to_dict(), state, 1, history,
                               extra={"dataset": checkpoint.fingerprint(DATASET, split)})
        with open(path, "rb") as fh:
            return fh.read()


GOOD = _good_bytes()


def _load_or_refuse(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzzed.npz")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            Trainer.check_checkpoint(path, DATASET)
        except CheckpointError as exc:
            assert "fuzzed.npz" in str(exc)


def test_the_unmutated_checkpoint_passes():
    _load_or_refuse(GOOD)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "good.npz")
        with open(path, "wb") as fh:
            fh.write(GOOD)
        Trainer.check_checkpoint(path, DATASET)  # no error at all


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_byte_flips(flips):
    data = bytearray(GOOD)
    for pos, mask in flips:
        data[pos] ^= mask
    _load_or_refuse(bytes(data))


@FUZZ
@given(st.integers(0, len(GOOD) - 1))
def test_truncation(length):
    _load_or_refuse(GOOD[:length])


def _headers(data: bytes, signature: bytes) -> list:
    out, i = [], data.find(signature)
    while i >= 0:
        out.append(i)
        i = data.find(signature, i + 4)
    return out


# (offset, struct format) of the fields of a local (PK\3\4) and a central (PK\1\2) header.
_LOCAL = [(4, "<H"), (6, "<H"), (8, "<H"), (14, "<I"), (18, "<I"), (22, "<I"), (26, "<H"), (28, "<H")]
_CENTRAL = [(4, "<H"), (6, "<H"), (8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"), (28, "<H"),
            (30, "<H"), (32, "<H"), (38, "<I"), (42, "<I")]
_END = [(8, "<H"), (10, "<H"), (12, "<I"), (16, "<I"), (20, "<H")]
_FIELDS = ([(b"PK\x03\x04", f) for f in _LOCAL] + [(b"PK\x01\x02", f) for f in _CENTRAL]
           + [(b"PK\x05\x06", f) for f in _END])


@FUZZ
@given(st.sampled_from(_FIELDS), st.integers(0, 63), st.sampled_from([0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]),
       st.integers(0, 0xFFFFFFFF))
def test_zip_header_fields(field, which, special, random_value):
    signature, (offset, fmt) = field
    starts = _headers(GOOD, signature)
    start = starts[which % len(starts)]
    value = (special if which % 2 else random_value) & (0xFFFF if fmt == "<H" else 0xFFFFFFFF)
    data = bytearray(GOOD)
    struct.pack_into(fmt, data, start + offset, value)
    _load_or_refuse(bytes(data))


def _with_meta(meta_bytes: bytes) -> bytes:
    """GOOD with its metadata replaced (a well-formed archive, CRCs right)."""
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(GOOD)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == "__meta__.npy":
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(meta_bytes, np.uint8))
                dst.writestr(info.filename, buf.getvalue())
            else:
                dst.writestr(info.filename, src.read(info))
    return out.getvalue()


with zipfile.ZipFile(__import__("io").BytesIO(GOOD)) as _zf:
    _META = json.loads(np.lib.format.read_array(_zf.open("__meta__.npy")).tobytes())

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


def _paths(obj, prefix=()):
    """Every (container, key) location in the metadata."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


_LOCATIONS = list(_paths(_META))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(_LOCATIONS), _JSON_VALUES), min_size=1, max_size=3))
def test_metadata_values(edits):
    meta = json.loads(json.dumps(_META))
    for location, value in edits:
        target = meta
        try:
            for key in location[:-1]:
                target = target[key]
            target[location[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the container
    _load_or_refuse(json.dumps(meta).encode())
    _load_or_refuse(_with_meta(json.dumps(meta).encode()))


@FUZZ
@given(st.binary(max_size=64), st.integers(0, len(json.dumps(_META))))
def test_metadata_bytes(junk, at):
    text = json.dumps(_META).encode()
    _load_or_refuse(_with_meta(text[:at] + junk + text[at:]))


@pytest.mark.parametrize("value", [2**40, -1, "3", 1.5, True, None, [1], {"a": 1}])
def test_history_and_epoch_values(value):
    for location in [("epoch",), ("history", 0), ("history", 0, "epoch"), ("history", 0, "train_loss"),
                     ("history", 0, "grad_norms"), ("config", "epochs"), ("config", "hidden_sizes"),
                     ("config", "window"), ("extra", "dataset", "mean"), ("extra", "dataset", "n_features")]:
        meta = json.loads(json.dumps(_META))
        target = meta
        for key in location[:-1]:
            target = target[key]
        target[location[-1]] = value
        _load_or_refuse(_with_meta(json.dumps(meta).encode()))
