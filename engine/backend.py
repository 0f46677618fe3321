"""Backend set-up in one place: PyTensor mode, floatX, and (for the app) the host process.

Two levels, so that ``import engine`` never changes the process that imports it:

- :func:`select` picks the PyTensor mode and floatX for a run. The Trainer calls it; it sets no
  environment variable and no compile folder, so a library user (a notebook next to PyMC or a GPU
  JAX) keeps PyTensor's and JAX's own defaults and the engine still works.
- :func:`configure` is what the app, headless mode, the benchmarks and the test suite call
  explicitly, once, as early as they can: one compute thread for BLAS/OpenMP/XLA (the second core
  belongs to the GUI), JAX on the CPU only, compiled code cached under :func:`cache_dir`, PyTensor
  told which BLAS to link, and two expected warnings silenced. :func:`limit_threads` is its light
  first half (environment only) for a launcher to call before NumPy or JAX are imported.
  Environment variables are only defaulted, so a user who sets them keeps their values.

The backend is one setting: ``select("jax" | "c" | "numba")`` (from ``TrainingConfig.backend``) or
the environment variable ``RNNSCOPE_BACKEND``. JAX is the default: fastest here, ~1 s to a first
result on a fresh machine and it releases the GIL while it runs, so the window stays responsive.
Every compiled function of the engine goes through :func:`function`, which always passes the mode
explicitly (PyTensor 3's own default mode is NUMBA) and counts compilations so tests can prove that
changing the learning rate never recompiles.
"""
from __future__ import annotations

import ctypes.util
import logging
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from engine.names import BACKENDS, DTYPES  # noqa: F401  (re-exported)

log = logging.getLogger("rnnscope.backend")

ENV_BACKEND = "RNNSCOPE_BACKEND"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# Expected and harmless, silenced by configure() only: the JAX linker drops Assert ops on every
# compile, and PyTensor accumulates float32 sums in float64, which JAX (x64 off) keeps in float32.
EXPECTED_WARNINGS = (r"Skipping .*Assert.* Op", r"Explicitly requested dtype float64 requested in astype")


def limit_threads(threads: int = 1) -> None:
    """Default BLAS, OpenMP, numba and XLA to ``threads`` compute threads; JAX to the CPU.

    Environment only (no import): call it before NumPy or JAX are imported, or it is too late for
    their thread pools. Values the user already set are kept.
    """
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(threads))
    xla = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in xla:
        os.environ["XLA_FLAGS"] = (xla + " " + _XLA_ONE_THREAD).strip()
    # CPU only: never probe for CUDA/TPU plugins (slow start, noisy warnings).
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def cache_dir() -> Path:
    """Per-user cache folder for compiled code (PyTensor C modules, XLA executables)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnn-scope"


def requested_backend() -> str:
    """What select() uses when not told: ``$RNNSCOPE_BACKEND`` if it names a backend, else jax."""
    name = os.environ.get(ENV_BACKEND, "jax").strip().lower() or "jax"
    return name if name in BACKENDS else "jax"


def _openblas_ldflags() -> str | None:
    return "-lopenblas" if ctypes.util.find_library("openblas") else None


def _prepare_pytensor_flags(backend: str) -> None:
    """PYTENSOR_FLAGS are read once, when pytensor is first imported."""
    if "pytensor" in sys.modules:
        if _host.threads is None:  # configure() after the engine was already used as a library
            log.info("pytensor already imported: its compile folder and BLAS flags stay as they are")
        return
    flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f]
    keys = {f.split("=", 1)[0] for f in flags}
    if "base_compiledir" not in keys:
        flags.append(f"base_compiledir={cache_dir() / 'pytensor'}")
    if "blas__ldflags" not in keys:
        if backend == "c":
            ld = _openblas_ldflags()
            if ld:
                # Without it the C backend silently falls back to NumPy's C-API BLAS (slow).
                flags.append(f"blas__ldflags={ld}")
        else:
            # JAX and NUMBA do their own BLAS: skip PyTensor's link probe and its warning.
            flags.append("blas__ldflags=")
    os.environ["PYTENSOR_FLAGS"] = ",".join(flags)


@dataclass
class _Host:
    threads: int | None = None  # set by configure(); None: the engine is a guest in someone's process


_host = _Host()


def configure(backend: str | None = None, *, threads: int = 1) -> None:
    """Set up this process the way RNN Scope's app wants it (the app, headless, benchmarks, tests).

    ``backend`` (default ``$RNNSCOPE_BACKEND`` or jax) only decides which BLAS PyTensor links;
    the backend of a run is ``TrainingConfig.backend``. Cheap (no heavy import) and idempotent;
    call it before NumPy, JAX or PyTensor are imported so the thread limits and the compile folder
    take effect. A library user who never calls it gets PyTensor's and JAX's defaults.
    """
    requested = (backend or requested_backend()).strip().lower()
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads!r}")
    limit_threads(threads)
    _prepare_pytensor_flags(requested)
    for message in EXPECTED_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    _host.threads = threads
    if "jax" in sys.modules:
        _enable_jax_cache(sys.modules["jax"])


def host_configured() -> bool:
    """Whether :func:`configure` has run in this process."""
    return _host.threads is not None


@dataclass(frozen=True)
class BackendInfo:
    name: str          # "jax" | "c" | "numba": what is actually in use
    requested: str     # what was asked for
    dtype: str
    detail: str        # versions, for the one-line description
    fallback_reason: str = ""


_lock = threading.Lock()
_info: BackendInfo | None = None
_mode = None
_compile_count = 0


def _jax_available() -> tuple[bool, str]:
    try:
        import jax  # noqa: F401
        import jaxlib  # noqa: F401
    except Exception as exc:  # ImportError, or a broken wheel raising something else
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def select(backend: str | None = None, dtype: str = "float32") -> BackendInfo:
    """Select the PyTensor mode and floatX for the next graphs. Safe to call again with other values.

    Touches no environment variable: what the host process looks like is :func:`configure`'s job.
    Falls back from JAX to the C backend with a logged warning if JAX cannot be imported;
    raises only for a name that is not a backend or dtype.
    """
    global _info, _mode
    requested = (backend or requested_backend()).strip().lower()
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    import pytensor
    from pytensor.compile.mode import get_mode as _get_mode

    name, reason = requested, ""
    if requested == "jax":
        ok, why = _jax_available()
        if not ok:
            name, reason = "c", f"JAX could not be imported ({why}); using the C backend instead"
            log.warning(reason)
    if name == "jax":
        detail = _select_jax(dtype)
    elif name == "c":
        _check_c_blas(pytensor)
        detail = "C (gcc)"
    else:
        detail = "NUMBA"
    # The graphs are built in floatX (the one PyTensor setting a run needs; documented in API.md).
    pytensor.config.floatX = dtype
    with _lock:
        # "CVM", not "C": the pure C linker has no fallback for ops without C code (Dot22 and
        # Ger when no BLAS library links), while the CVM runs those few ops in Python.
        _mode = _jax_mode() if name == "jax" else _get_mode({"c": "CVM", "numba": "NUMBA"}[name])
        _info = BackendInfo(name=name, requested=requested, dtype=dtype,
                            detail=f"PyTensor {pytensor.__version__} · {detail}",
                            fallback_reason=reason)
    log.info(describe())
    return _info


def _jax_mode():
    """PyTensor's JAX mode (its rewrites) with the engine's linker (engine.jax_linker)."""
    from pytensor.compile.mode import Mode, get_mode as _get_mode

    from engine.jax_linker import EngineJAXLinker

    return Mode(linker=EngineJAXLinker(), optimizer=_get_mode("JAX").provided_optimizer)


def _select_jax(dtype: str) -> str:
    import jax

    if host_configured():
        jax.config.update("jax_enable_x64", dtype == "float64")
        _enable_jax_cache(jax)
    elif dtype == "float64" and not jax.config.jax_enable_x64:
        # A guest only switches x64 on when a run needs it, never off under its host's feet.
        jax.config.update("jax_enable_x64", True)
    return f"JAX {jax.__version__} ({jax.default_backend()})"


def _check_c_blas(pytensor) -> None:
    if pytensor.config.blas__ldflags:
        return
    ld = _openblas_ldflags()
    if ld and host_configured():
        pytensor.config.blas__ldflags = ld
    elif not ld:
        log.warning("C backend: no OpenBLAS found (apt-get install libopenblas-dev); "
                    "matrix products use NumPy's slower C-API BLAS")


def _enable_jax_cache(jax) -> None:
    """Persist XLA executables so a second launch skips most of the compile time."""
    try:
        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    except Exception as exc:  # an older/newer jax without these options: not worth failing for
        log.debug("JAX compile cache not enabled: %s", exc)


def selected() -> BackendInfo | None:
    """The backend select() chose, or None if none yet (no import, nothing selected by asking)."""
    return _info


def info() -> BackendInfo:
    """The backend in force (selects the default one on first use)."""
    if _info is None:
        select()
    assert _info is not None
    return _info


def get_mode():
    """The configured PyTensor mode: pass it to every ``pytensor.function``."""
    if _mode is None:
        select()
    return _mode


def function(inputs, outputs, **kwargs):
    """``pytensor.function`` with the configured mode, counted (see :func:`compile_count`)."""
    import pytensor

    kwargs.setdefault("mode", get_mode())
    fn = pytensor.function(inputs, outputs, **kwargs)
    count_compile()
    return fn


def copy_function(fn, swap: dict):
    """``fn`` on other shared variables of the same types (``Function.copy``: no rewrites; the
    linker runs again), counted like a compile."""
    copied = fn.copy(swap=swap, name=fn.name)
    # ``Function.copy`` sets ``profile`` to config.profile (False) where ``pytensor.function``
    # leaves None; ``pytensor.dprint`` of the copy then fails on ``False.fct_callcount``.
    copied.profile = fn.profile
    count_compile()
    return copied


def count_compile() -> None:
    """Count a function the engine made for a caller (also a copy, or a stored training step
    bound to a trainer's variables: engine.step_store)."""
    global _compile_count
    with _lock:
        _compile_count += 1


def compile_count() -> int:
    """How many functions the engine has compiled in this process."""
    return _compile_count


def describe() -> str:
    """One line for the status bar and logs."""
    i = info()
    text = f"{i.detail} · {i.dtype}"
    if host_configured():
        n = int(os.environ.get("OMP_NUM_THREADS") or _host.threads)  # a user's own value wins
        text += f" · {n} compute thread{'s' if n != 1 else ''}"
    if i.fallback_reason:
        text += f" (asked for {i.requested}: fell back)"
    return text
