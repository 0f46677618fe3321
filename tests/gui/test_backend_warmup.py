import threading

import main
from gui import app as app_module
from gui import backend_warmup


def _fresh(monkeypatch, imports, started=None):
    monkeypatch.setattr(backend_warmup, "_state", {"imported": False})
    monkeypatch.setattr(backend_warmup, "_import_modules", imports)
    monkeypatch.setattr(backend_warmup, "_start_backend",
                        lambda: started.append(threading.current_thread().name) if started is not None else None)


def test_the_imports_happen_once_and_the_worker_waits_for_them_then_starts_the_backend(monkeypatch):
    entered, release, imports, started = threading.Event(), threading.Event(), [], []

    def slow_imports():
        imports.append(threading.current_thread().name)
        entered.set()
        release.wait(10)

    _fresh(monkeypatch, slow_imports, started)
    thread = backend_warmup.start()
    assert entered.wait(10)
    worker = threading.Thread(target=backend_warmup.warm_up, name="worker")  # the training worker, meanwhile
    worker.start()
    worker.join(0.2)
    assert worker.is_alive() and started == []  # it waits for the launch's imports instead of importing again
    release.set()
    worker.join(10)
    thread.join(10)
    assert imports == ["backend-imports"]
    assert started == ["worker"]  # JAX's runtime starts on the long-lived worker thread, never the short one


def test_a_failing_import_is_left_for_the_first_run_to_report(monkeypatch):
    def broken():
        raise ImportError("no jaxlib")

    _fresh(monkeypatch, broken)
    backend_warmup.warm_up()  # no exception here: the run selects the backend and says why


def test_the_launch_starts_the_imports_before_it_builds_the_window(monkeypatch, qtbot):
    order = []
    monkeypatch.setattr(backend_warmup, "start", lambda: order.append("imports"))
    import gui.main_window

    original = gui.main_window.MainWindow.__init__

    def init(self, *args, **kwargs):
        order.append("window")
        original(self, *args, **kwargs)

    monkeypatch.setattr(gui.main_window.MainWindow, "__init__", init)
    window = app_module.setup_window(main.build_parser().parse_args(["--hidden", "3"]))
    qtbot.addWidget(window)
    window.close()
    assert order[:2] == ["imports", "window"]
