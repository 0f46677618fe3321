"""The Dataset lines of a shown run folder, from its run.json (gui.stored_dataset)."""
from gui.stored_dataset import NOT_RECORDED, stored_dataset_texts


def test_a_framed_classification_runs_lines():
    texts = stored_dataset_texts({"name": "GunPoint_TRAIN", "task": "classify_sequence",
                                  "paths": ["/data/ucr/GunPoint_TRAIN.ts"], "n_sequences": 50, "n_features": 5,
                                  "n_outputs": 2, "n_train": 40, "n_val": 10, "frame": 5, "class_names": ["1", "2"]})
    assert texts["file"] == "GunPoint_TRAIN.ts" and "/data/ucr/GunPoint_TRAIN.ts" in texts["file_tip"]
    assert texts["sequences"] == "50 (40 train, 10 val)"
    assert texts["lengths"] == NOT_RECORDED and texts["frames"] == "5 steps per frame"
    assert texts["inputs"] == "5 feature(s)" and texts["outputs"] == "2 classes: 1, 2"


def test_a_text_run_and_an_older_folder_that_names_only_its_data():
    text = stored_dataset_texts({"name": "words", "task": "next_token", "paths": ["/w/words.txt"],
                                 "n_sequences": 3, "n_outputs": 27})
    assert text["inputs"] == "text, vocabulary 27" and text["frames"] == ""
    old = stored_dataset_texts({"name": "sine"})
    assert old["file"] == "sine" and old["sequences"] == "" and old["outputs"] == "forecast ? target(s)"
    assert stored_dataset_texts(None)["file"] == ""
