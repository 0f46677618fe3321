"""The Controls' Dataset lines for a run folder shown in the main panels, from its run.json.

A shown run's data is the one its run.json names, not the window's own (which may be another
file, or none): the Dataset group says what the shown run was trained on. run.json keeps the
files, the counts and the classes (docs/RUN_FORMAT.md), not the lengths: that row says so.
Qt-free, so the same lines could serve any view of a folder.
"""

from __future__ import annotations

import os

NOT_RECORDED = "– (not in its run.json)"
STORED_TIP = "From the shown run's run.json; the window's own data comes back when its own run is shown"


def stored_dataset_texts(info: dict) -> dict:
    """run.json's ``dataset`` -> the keys of ``gui.controls.summary_texts`` (file, sequences, lengths,
    frames, inputs, outputs and their tips)."""
    info = info if isinstance(info, dict) else {}
    paths = [str(p) for p in info.get("paths") or []]
    name = str(info.get("name") or "")
    file_text = ", ".join(os.path.basename(p) for p in paths) if paths else name
    sequences = _count(info.get("n_sequences"))
    if sequences and _count(info.get("n_train")) and _count(info.get("n_val")):
        sequences += f" ({info['n_train']} train, {info['n_val']} val)"
    frame = _count(info.get("frame")) or "1"
    task, outputs_n = info.get("task"), _count(info.get("n_outputs"))
    classes = [str(c) for c in info.get("class_names") or []]
    if task == "next_token":
        inputs, outputs = f"text, vocabulary {outputs_n or '?'}", "next character"
    else:
        inputs = f"{_count(info.get('n_features')) or '?'} feature(s)"
        outputs = f"forecast {outputs_n or '?'} target(s)"
    if task == "classify_sequence":
        outputs = f"{outputs_n or len(classes)} classes" + (f": {', '.join(classes[:8])}" if classes else "")
    where = "\n".join(paths) if paths else file_text
    return {"file": file_text, "file_tip": f"{where}\n{STORED_TIP}",
            "sequences": sequences, "lengths": NOT_RECORDED if file_text else "",
            "lengths_tip": f"run.json does not record the sequences' lengths\n{STORED_TIP}",
            "frames": f"{frame} steps per frame" if frame != "1" else "",
            "inputs": inputs if file_text else "", "outputs": outputs if file_text else ""}


def _count(value) -> str:
    """A whole count as text, "" for a missing or foreign value (older or hand-made folders)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else ""
