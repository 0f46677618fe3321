"""RNN Scope: watch a recurrent neural network learn.

Thin launcher: parse the command line, then hand over to the window (``gui.app``) or to the
headless runner (``gui.headless``). Everything else lives in ``engine/`` and ``gui/``; what the
flags mean for training and loading is in ``gui.cli_flags`` (one table for both modes), and what
the command line prints and returns in ``gui.cli_output``.
"""
from __future__ import annotations

import argparse
import sys

from engine.names import BACKENDS, CELLS, DTYPES, OPTIMIZERS


class OneLineParser(argparse.ArgumentParser):
    """argparse with the command line's error contract: one line on stderr, exit code 2."""

    def error(self, message: str):
        from gui.cli_output import EXIT_USAGE, write_line

        write_line(sys.stderr, f"{self.prog}: error: {message} (see {self.prog} --help)")
        sys.exit(EXIT_USAGE)


def _hidden_sizes(text: str) -> tuple[int, ...]:
    from engine.limits import hidden_sizes_problem

    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes layer sizes separated by commas, like 64,32; got {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive integers, got {text!r}")
    problem = hidden_sizes_problem(sizes)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return sizes


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
        return value
    return parse


def _whole(minimum: int, too_small: str, expected: str = "a whole number", none_word: bool = False):
    """An integer option of at least ``minimum``; ``none_word``: "none" switches it off (None)."""
    def parse(text: str):
        if none_word and text.strip().lower() == "none":
            return None
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{too_small}, got {text!r}")
        return value
    return parse


# a count where 0 means off (as the window's "0 = off" controls)
_off_or_positive = _whole(0, "must be 0 (off) or more")
# an integer option that may be switched off: ``--max-vocab none``
_count = _whole(1, "must be at least 1", "a whole number or 'none'", none_word=True)
# ``--saliency-step``: a 0-based step, or -1 for the last
_step_index = _whole(-1, "steps count from 0 (-1 = the last)", "a step number (0 = the first, -1 = the last)")


def _sample(name: str) -> str:
    import resources

    try:
        return resources.sample_path(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_data_flags(p: argparse.ArgumentParser) -> None:
    """One flag per loading option that engine.data.options offers on the command line (issue 10)."""
    from engine.data.options import NONFINITE_POLICIES, OPTIONS  # no NumPy: --help stays fast
    from engine.names import FORMATS, TASKS

    d = p.add_argument_group("data (how FILE is read; detected when left out)")
    choices = {"nonfinite": NONFINITE_POLICIES, "format": FORMATS, "task": TASKS}
    given_only = argparse.SUPPRESS  # no attribute unless given: "--max-vocab none" (None) differs from absent
    for option in OPTIONS.values():
        if option.flag is None:
            continue
        if option.key == "has_header":  # "--header/--no-header"
            d.add_argument("--header", action=argparse.BooleanOptionalAction, default=given_only, help=option.doc)
        elif isinstance(option.default, bool):
            d.add_argument(option.flag, action="store_true", default=given_only, help=option.doc)
        elif isinstance(option.default, int):
            d.add_argument(option.flag, type=_count, metavar="N", default=given_only, help=option.doc)
        elif option.key in choices:
            d.add_argument(option.flag, choices=choices[option.key], default=given_only, help=option.doc)
        else:  # the loader checks the value and says what it takes
            d.add_argument(option.flag, metavar=option.key.upper(), default=given_only, help=option.doc)


def build_parser() -> argparse.ArgumentParser:
    import resources
    from engine import __version__

    samples = ", ".join(resources.list_samples())
    p = OneLineParser(
        prog="rnn-scope", allow_abbrev=False,  # a script's "--back" must not change meaning when flags are added
        description="Train a recurrent neural network and watch its loss and hidden states live.",
        epilog=(f"With no FILE, the bundled noisy-sine forecasting sample is opened. A FILE that does not "
                f"exist here but is a bundled sample's name opens that sample ({samples}). Headless exit "
                "codes: 0 finished, 2 bad input or settings, 3 diverged (no finite validation loss at the end; "
                "results written), 130 interrupted (results so far written)."))
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="sequence file(s): CSV/TSV, UCR .tsv, sktime .ts, text, .npy/.npz")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--sample", type=_sample, metavar="NAME", help=f"open a bundled sample: {samples}")
    _add_data_flags(p)
    _add_model_and_training_flags(p)
    _add_run_flags(p)
    _add_output_flags(p)
    return p


def _add_model_and_training_flags(p) -> None:
    m = p.add_argument_group("model")
    m.add_argument("--cell", choices=CELLS, help="recurrent cell (default: elman)")
    m.add_argument("--hidden", type=_hidden_sizes, metavar="SIZES",
                   help="hidden units per layer, comma separated, e.g. 64,32")
    m.add_argument("--dtype", choices=DTYPES, help="default: float32")
    t = p.add_argument_group("training")
    t.add_argument("--lr", type=_positive(float), metavar="RATE", help="learning rate")
    t.add_argument("--optimizer", choices=OPTIMIZERS, help="default: adam")
    t.add_argument("--batch-size", type=_positive(int), metavar="N")
    t.add_argument("--epochs", type=_positive(int), metavar="N")
    t.add_argument("--seed", type=int)
    t.add_argument("--backend", choices=BACKENDS,
                   help="PyTensor backend (default: jax, or $RNNSCOPE_BACKEND)")


def _add_run_flags(p) -> None:
    r = p.add_argument_group("run")
    r.add_argument("--start", action="store_true", help="start training as soon as the window opens")
    r.add_argument("--checkpoint", metavar="PATH", help="open a saved run (.npz checkpoint)")
    r.add_argument("--run", metavar="DIR", action="append",
                   help="show a run folder in the Runs dock, its loss curves overlaid (repeat for several)")
    r.add_argument("--headless", action="store_true",
                   help="train without a window; progress on stderr, the summary on stdout, results in --out")
    r.add_argument("--out", metavar="DIR", help="headless run folder to write (default: rnn-scope-out)")
    r.add_argument("--resume", metavar="DIR",
                   help="headless: continue the run in DIR (its run folder) to --epochs, appending")
    r.add_argument("--overwrite", action="store_true",
                   help="replace an earlier run's results in --out (refused otherwise)")
    r.add_argument("--no-plots", action="store_true",
                   help="headless: write no PNGs (and need none of Qt's graphics libraries)")
    r.add_argument("--tensorboard", action="store_true",
                   help="headless: also write TensorBoard event files to DIR/tensorboard "
                        "(pip install 'rnn-scope[tensorboard]')")
    e = p.add_argument_group("results")
    e.add_argument("--suggested", action="store_true",
                   help="use settings suggested from the data's size and shape (flags given explicitly still win)")
    e.add_argument("--test", metavar="FILE", help="test file scored with the best weights at the end, never trained on")
    e.add_argument("--test-every", type=_positive(int), metavar="K", help="also score the test file every K epochs")
    e.add_argument("--patience", type=_off_or_positive, metavar="N",
                   help="stop after N epochs without a lower validation loss (default, or 0: off; "
                        "0 also turns off the patience --suggested would set)")
    e.add_argument("--saliency-step", type=_step_index, metavar="N",
                   help="the probe step whose prediction saliency.png and the Saliency dock explain, "
                        "0-based (default -1: the last); refused if the probe has no step N")


def _add_output_flags(p) -> None:
    o = p.add_argument_group("output")
    o.add_argument("-q", "--quiet", action="store_true", help="headless: no progress, only the summary and errors")
    o.add_argument("--json", action="store_true",
                   help="headless: print the summary as one JSON object on stdout (losses, accuracy, epochs, files)")
    o.add_argument("-v", "--verbose", action="store_true", help="log details to stderr (replaces $RNNSCOPE_LOG)")
    o.add_argument("--log-file", metavar="PATH", help="also write the detailed log to PATH")
    k = p.add_argument_group("desktop (Linux)")
    k.add_argument("--install-desktop", action="store_true",
                   help="add RNN Scope to the application menu (~/.local/share) and exit")
    k.add_argument("--uninstall-desktop", action="store_true", help="remove it from the menu and exit")


def _backend_named(argv: list[str]) -> str | None:
    """``--backend NAME`` from the raw arguments (None if absent or not a backend): the process is
    set up before the parser is built (building it imports no NumPy, but what follows it does)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        name = argv[i + 1] if arg == "--backend" and i + 1 < len(argv) else (
            arg.split("=", 1)[1] if arg.startswith("--backend=") else None)
        if name is not None:
            return name.strip().lower() if name.strip().lower() in BACKENDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine import backend

    backend.configure(_backend_named(argv))  # the app's process set-up, before numpy, JAX or Qt load
    args = build_parser().parse_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        from gui.desktop import run

        return run("install" if args.install_desktop else "uninstall")
    from gui.cli_output import EXIT_INTERRUPTED, EXIT_USAGE, write_line
    from gui.logging_setup import configure

    try:
        configure(verbose=args.verbose, log_file=args.log_file, window=not args.headless)
    except OSError as exc:
        write_line(sys.stderr, f"rnn-scope: error: cannot write the log file {args.log_file}: "
                               f"{exc.strerror or exc}; choose another --log-file")
        return EXIT_USAGE
    if args.backend:
        import os

        os.environ["RNNSCOPE_BACKEND"] = args.backend  # read when the engine configures itself
    try:
        if args.headless:
            from gui.headless import run_headless

            return run_headless(args)
        return _run_window(args)
    except KeyboardInterrupt:  # Ctrl+C before training started (headless handles it during training)
        where = "before training started; nothing was written" if args.headless else "(Ctrl+C)"
        write_line(sys.stderr, f"rnn-scope: interrupted {where}")
        return EXIT_INTERRUPTED


def _run_window(args) -> int:
    from gui.qt_env import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from gui import gc_freeze

    gc_freeze.pause_for_launch()  # the window's imports and build without the collector (gui.gc_freeze)
    from gui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
