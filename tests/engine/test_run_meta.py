"""engine.run_meta: what run.json says about the data (the class names, bounded)."""

import types

from engine.limits import MAX_CLASS_NAME_CHARS, MAX_STORED_CLASS_NAMES
from engine.run_meta import dataset_info


def _dataset(class_names, task="classify_sequence"):
    import numpy as np

    return types.SimpleNamespace(name="d", task=task, format="tsv", source_paths=[], sequences=[np.zeros(3)],
                                 labels=None, n_sequences=1, n_features=1, n_outputs=max(1, len(class_names)),
                                 class_names=class_names)


def test_run_json_names_the_classes_within_bounds():
    split = types.SimpleNamespace(train=[0], val=[])
    assert dataset_info(_dataset(["up", "down"]), split)["class_names"] == ["up", "down"]
    assert dataset_info(_dataset([], task="forecast"), split)["class_names"] == []
    names = dataset_info(_dataset([f"{k:04d}" + "y" * 80 for k in range(1000)]), split)["class_names"]
    assert len(names) == MAX_STORED_CLASS_NAMES and all(len(n) == MAX_CLASS_NAME_CHARS for n in names)
    assert names[3].startswith("0003")  # the first ones, in the classes' order
