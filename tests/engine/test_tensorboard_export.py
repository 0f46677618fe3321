"""The optional TensorBoard export writes a run folder's scalars as event files (tensorboardX extra)."""
import json
import struct

import pytest

from engine.run_folder import FORMAT, RUN_JSON, VERSION, AppendLog, event_line, write_metrics_csv

tensorboardX = pytest.importorskip("tensorboardX")


def _read_events(path):
    """Scalars {tag: [(step, value)]} from a TFRecord event file (length, crc, data, crc)."""
    from tensorboardX.proto import event_pb2

    scalars, texts = {}, []
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        record = data[offset + 12:offset + 12 + length]
        offset += 12 + length + 4
        event = event_pb2.Event.FromString(record)
        for value in event.summary.value:
            if value.HasField("simple_value"):
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
            else:
                texts.append(value.tag)
    return scalars, texts


def test_export_writes_every_epoch_and_the_setting_changes(tmp_path):
    from engine.tensorboard_export import export_run

    history = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 2.0 / e, "val_accuracy": None, "learning_rate": 0.01,
                "clip_norm": None, "momentum": 0.9, "seconds": 1.0, "grad_norms": {"layer1": 0.5},
                "weight_norms": {"layer1": 2.0}} for e in (1, 2, 3)]
    write_metrics_csv(tmp_path / "metrics.csv", history)
    (tmp_path / RUN_JSON).write_text(json.dumps({"format": FORMAT, "version": VERSION, "status": "finished",
                                                 "config": {"cell": "gru"}}))
    AppendLog(tmp_path / "events.jsonl").write_line(event_line("set", 1, 1.0, name="learning_rate", old=0.01,
                                                               new=0.005))
    logdir = export_run(tmp_path)
    files = list(logdir.glob("events.out.tfevents.*"))
    assert len(files) == 1
    scalars, texts = _read_events(files[0])
    assert scalars["loss/train"] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert [s for s, _ in scalars["loss/val"]] == [1, 2, 3] and "accuracy/val" not in scalars
    assert scalars["grad_norm/layer1"][0] == (1, 0.5) and "settings/clip_norm" not in scalars
    assert set(texts) == {"run/config/text_summary", "run/changes/text_summary"}
    assert export_run(tmp_path) == logdir and len(list(logdir.iterdir())) == 1  # a re-export replaces it
