"""resources: Qt-free paths to the bundled samples and icons; the samples load as documented."""

import os
import subprocess
import sys

import numpy as np
import pytest

import resources
from engine.data import load_sequences

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_default_dataset_is_the_sine_forecast_set():
    path = resources.default_dataset_path()
    assert os.path.basename(path) == "sine_forecast.csv" and os.path.isfile(path)
    ds = load_sequences(path)
    assert ds.task == "forecast" and ds.n_sequences == 64 and set(ds.lengths) == {200}
    split = ds.split()
    assert split.train.x.shape == (51, 200, 1) and split.val.x.shape == (13, 200, 1)
    assert abs(float(split.mean[0])) < 0.2 and 0.4 < float(split.std[0]) < 1.5


def test_waveforms_sample_is_ucr_classification():
    ds = load_sequences(resources.sample_path("waveforms_TRAIN.tsv"))
    assert ds.task == "classify_sequence" and ds.format == "ucr"
    assert ds.n_sequences == 200 and ds.class_names == ["1", "2", "3", "4"]
    assert np.bincount(ds.labels).tolist() == [50, 50, 50, 50]
    assert ds.lengths.min() >= 48 and ds.lengths.max() == 64


def test_words_sample_is_text_of_the_promised_size():
    path = resources.sample_path("words")
    assert 50_000 <= os.path.getsize(path) <= 300_000
    ds = load_sequences(path)
    assert ds.task == "next_token" and ds.vocabulary == ["\n"] + [chr(c) for c in range(97, 123)]
    assert os.path.isfile(os.path.join(resources.SAMPLES_DIR, "words_COPYRIGHT.txt"))


def test_samples_are_small_and_documented():
    names = resources.list_samples()
    assert names == ["sine_forecast.csv", "waveforms_TRAIN.tsv", "words.txt"]
    total = sum(os.path.getsize(resources.sample_path(n)) for n in names)
    assert total < 1_000_000
    with open(os.path.join(resources.SAMPLES_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for name in names + ["make_samples.py", "licence"]:
        assert name.lower() in readme.lower()


def test_samples_match_their_generator():
    generator = os.path.join(resources.SAMPLES_DIR, "make_samples.py")
    result = subprocess.run([sys.executable, generator, "--check", "--words", "/nonexistent"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="sine_forecast.csv"):
        resources.sample_path("sunspots")
    with pytest.raises(ValueError, match="rnnscope.svg"):
        resources.icon_path("nope")
    with pytest.raises(ValueError):
        resources.sample_path("")


def test_icon_paths():
    svg = resources.icon_path("rnnscope")
    assert svg.endswith("rnnscope.svg") and os.path.isfile(svg)
    with open(svg, encoding="utf-8") as f:
        assert f.read().lstrip().startswith("<?xml")
    png = resources.icon_path("rnnscope.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_resources_and_engine_data_import_no_qt():
    code = ("import sys, resources, engine.data; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PyQt5', 'pyqtgraph', 'gui')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
