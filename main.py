"""RNN Scope: watch a recurrent neural network learn.

Thin launcher: parse the command line, then hand over to the window (``gui.app``) or to the
headless runner (``gui.headless``). Everything else lives in ``engine/`` and ``gui/``.
"""
from __future__ import annotations

import argparse
import sys

from engine.names import BACKENDS, CELLS, DTYPES, OPTIMIZERS


def _hidden_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes layer sizes separated by commas, like 64,32; got {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive integers, got {text!r}")
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


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__

    p = argparse.ArgumentParser(
        prog="rnn-scope",
        description="Train a recurrent neural network and watch its loss and hidden states live.",
        epilog="With no FILE, the bundled noisy-sine forecasting sample is opened.")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="sequence file(s): CSV/TSV, UCR .tsv, sktime .ts, text, .npy/.npz")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    r = p.add_argument_group("run")
    r.add_argument("--start", action="store_true", help="start training as soon as the window opens")
    r.add_argument("--checkpoint", metavar="PATH", help="open a saved run (.npz checkpoint)")
    r.add_argument("--run", metavar="DIR", action="append",
                   help="show a run folder in the Runs dock, its loss curves overlaid (repeat for several)")
    r.add_argument("--headless", action="store_true",
                   help="train without a window; print progress, write results to --out")
    r.add_argument("--out", metavar="DIR", help="headless run folder to write (default: rnn-scope-out)")
    r.add_argument("--resume", metavar="DIR",
                   help="headless: continue the run in DIR (its run folder) to --epochs, appending")
    r.add_argument("--tensorboard", action="store_true",
                   help="headless: also write TensorBoard event files to DIR/tensorboard "
                        "(pip install 'rnn-scope[tensorboard]')")
    e = p.add_argument_group("results")
    e.add_argument("--suggested", action="store_true",
                   help="use settings suggested from the data's size and shape (flags given explicitly still win)")
    e.add_argument("--test", metavar="FILE", help="test file scored with the best weights at the end, never trained on")
    e.add_argument("--test-every", type=_positive(int), metavar="K", help="also score the test file every K epochs")
    e.add_argument("--patience", type=_positive(int), metavar="N",
                   help="stop after N epochs without a lower validation loss (default: off)")
    d = p.add_argument_group("desktop (Linux)")
    d.add_argument("--install-desktop", action="store_true",
                   help="add RNN Scope to the application menu (~/.local/share) and exit")
    d.add_argument("--uninstall-desktop", action="store_true", help="remove it from the menu and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        from gui.desktop import run

        return run("install" if args.install_desktop else "uninstall")
    from engine import backend

    backend.configure(args.backend)  # the app's process set-up, before numpy, JAX or Qt load
    if args.backend:
        import os

        os.environ["RNNSCOPE_BACKEND"] = args.backend  # read when the engine configures itself
    if args.headless:
        from gui.headless import run_headless

        return run_headless(args)
    from gui.qt_env import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from gui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
