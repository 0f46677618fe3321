import threading

import main
from gui import app as app_module
from gui import backend_warmup


def _fresh(monkeypatch, work):
    monkeypatch.setattr(backend_warmup, "_state", {"done": False})
    monkeypatch.setattr(backend_warmup, "_import_backend", work)


def test_the_backend_is_warmed_up_once_and_a_second_caller_waits_for_it(monkeypatch):
    entered, release, calls = threading.Event(), threading.Event(), []

    def slow_import():
        calls.append(threading.current_thread().name)
        entered.set()
        release.wait(10)

    _fresh(monkeypatch, slow_import)
    thread = backend_warmup.start()
    assert entered.wait(10)
    waiter = threading.Thread(target=backend_warmup.warm_up)  # the training worker, meanwhile
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # it waits for the launch's warm-up instead of importing again
    release.set()
    waiter.join(10)
    thread.join(10)
    assert calls == ["backend-warmup"]
    backend_warmup.warm_up()  # done: returns at once
    assert calls == ["backend-warmup"]


def test_a_failing_warm_up_is_left_for_the_first_run_to_report(monkeypatch):
    def broken():
        raise ImportError("no jaxlib")

    _fresh(monkeypatch, broken)
    backend_warmup.warm_up()  # no exception here: the run selects the backend and says why


def test_the_launch_starts_the_warm_up_before_it_builds_the_window(monkeypatch, qtbot):
    order = []
    monkeypatch.setattr(backend_warmup, "start", lambda: order.append("warm-up"))
    import gui.main_window

    original = gui.main_window.MainWindow.__init__

    def init(self, *args, **kwargs):
        order.append("window")
        original(self, *args, **kwargs)

    monkeypatch.setattr(gui.main_window.MainWindow, "__init__", init)
    window = app_module.setup_window(main.build_parser().parse_args(["--hidden", "3"]))
    qtbot.addWidget(window)
    window.close()
    assert order[:2] == ["warm-up", "window"]
