"""The documentation runs: docs/API.md's examples (doctest) and the example notebook (nbclient)."""
import doctest

from tests.conftest import ROOT


def test_api_page_examples_run():
    result = doctest.testfile(str(ROOT / "docs" / "API.md"), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 30
    assert result.failed == 0


def test_example_notebook_executes(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # Jupyter's runtime files (kernel connection files) go to tmp_path, never the real home.
    for var in ("JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    notebook = nbformat.read(ROOT / "examples" / "train_on_a_sample.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "validation loss" in text and "hidden states per layer: [(41, 16)]" in text
    assert "the learning-rate change added none" in text  # asserted inside the notebook
    live = [o for o in outputs if o.output_type == "display_data"]
    assert live and "val loss so far" in live[0]["data"]["text/plain"]  # the live table's last state
