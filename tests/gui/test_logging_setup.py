"""--verbose, --log-file, the older RNNSCOPE_LOG, and the window's log in the cache folder."""
import logging

import pytest

from gui import logging_setup


def test_the_window_logs_to_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert logging_setup.log_path() == tmp_path / "rnn-scope" / "rnn-scope.log"
    assert logging_setup.configure(window=True) == logging_setup.log_path()
    logging.getLogger("gui.main_window").info("opened sine.csv")
    logging.getLogger("pytensor.compile").info("a library's chatter")
    text = logging_setup.log_path().read_text()
    assert "INFO gui.main_window: opened sine.csv" in text and "chatter" not in text


def test_headless_logs_nowhere_but_stderr_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RNNSCOPE_LOG", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert logging_setup.configure() is None
    logging.getLogger("engine.training").info("quiet by default")
    logging.getLogger("engine.training").warning("but warnings show")
    assert capsys.readouterr().err == "WARNING engine.training: but warnings show\n"
    assert not (tmp_path / "rnn-scope").exists()


@pytest.mark.parametrize("verbose, env, shown", [(True, None, True), (False, "debug", True), (False, None, False)])
def test_verbose_and_the_older_environment_variable(verbose, env, shown, monkeypatch, capsys):
    if env:
        monkeypatch.setenv("RNNSCOPE_LOG", env)
    else:
        monkeypatch.delenv("RNNSCOPE_LOG", raising=False)
    logging_setup.configure(verbose=verbose)
    logging.getLogger("gui.worker").debug("step timing")
    assert ("DEBUG gui.worker: step timing" in capsys.readouterr().err) is shown


def test_log_file_gets_the_debug_log(tmp_path):
    path = tmp_path / "run.log"
    assert logging_setup.configure(log_file=path) == path
    logging.getLogger("rnnscope.backend").debug("backend jax")
    assert "DEBUG rnnscope.backend: backend jax" in path.read_text()
    with pytest.raises(OSError):
        logging_setup.configure(log_file=tmp_path)  # a folder
