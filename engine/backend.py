"""Backend set-up in one place: PyTensor mode, compute threads, floatX, caches.

Importing this module (``import engine`` does it first) limits compute to one thread *before*
NumPy's BLAS or XLA start their thread pools: the second core of the machine belongs to the GUI.
The environment variables are only defaulted, so a user who sets them keeps their values.

The backend is one setting: ``configure(backend="jax" | "c" | "numba")`` or the environment
variable ``RNNSCOPE_BACKEND``. JAX is the default: fastest here, ~1 s to a first result on a fresh
machine and it releases the GIL while it runs, so the window stays responsive. Every compiled
function of the engine goes through :func:`function`, which always passes the mode explicitly
(PyTensor 3's own default mode is NUMBA) and counts compilations so tests can prove that changing
the learning rate never recompiles.
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

_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _limit_threads() -> None:
    """One compute thread for BLAS, OpenMP and XLA (must run before numpy/jax are imported)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    xla = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in xla:
        os.environ["XLA_FLAGS"] = (xla + " " + _XLA_ONE_THREAD).strip()
    # CPU only: never probe for CUDA/TPU plugins (slow start, noisy warnings).
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def cache_dir() -> Path:
    """Per-user cache folder for compiled code (PyTensor C modules, XLA executables)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnn-scope"


def _requested_backend() -> str:
    name = os.environ.get(ENV_BACKEND, "jax").strip().lower() or "jax"
    return name if name in BACKENDS else "jax"


def _openblas_ldflags() -> str | None:
    return "-lopenblas" if ctypes.util.find_library("openblas") else None


def _prepare_pytensor_flags(backend: str) -> None:
    """PYTENSOR_FLAGS are read once, when pytensor is first imported."""
    if "pytensor" in sys.modules:
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


_limit_threads()
_prepare_pytensor_flags(_requested_backend())

# The JAX linker warns once per compile that it drops Assert ops; that is expected, not news.
warnings.filterwarnings("ignore", message=r"Skipping .*Assert.* Op")
# PyTensor accumulates float32 sums in float64; with x64 off JAX keeps float32 (what we want) and
# warns about it on every trace.
warnings.filterwarnings("ignore", message=r"Explicitly requested dtype float64 requested in astype")


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


def configure(backend: str | None = None, dtype: str = "float32") -> BackendInfo:
    """Select the PyTensor mode and floatX. Safe to call again with other values.

    Falls back from JAX to the C backend with a logged warning if JAX cannot be imported;
    raises only for a name that is not a backend or dtype.
    """
    global _info, _mode
    requested = (backend or _requested_backend()).strip().lower()
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    _prepare_pytensor_flags(requested)
    import pytensor
    from pytensor.compile.mode import get_mode as _get_mode

    name, reason = requested, ""
    if requested == "jax":
        ok, why = _jax_available()
        if not ok:
            name, reason = "c", f"JAX could not be imported ({why}); using the C backend instead"
            log.warning(reason)
    if name == "jax":
        import jax

        jax.config.update("jax_enable_x64", dtype == "float64")
        _enable_jax_cache(jax)
        detail = f"JAX {jax.__version__} (cpu)"
    elif name == "c":
        if not pytensor.config.blas__ldflags:
            ld = _openblas_ldflags()
            if ld:
                pytensor.config.blas__ldflags = ld
            else:
                log.warning("C backend: no OpenBLAS found (apt-get install libopenblas-dev); "
                            "matrix products use NumPy's slower C-API BLAS")
        detail = "C (gcc)"
    else:
        detail = "NUMBA"
    pytensor.config.floatX = dtype
    with _lock:
        # "CVM", not "C": the pure C linker has no fallback for ops without C code (Dot22 and
        # Ger when no BLAS library links), while the CVM runs those few ops in Python.
        _mode = _get_mode({"jax": "JAX", "c": "CVM", "numba": "NUMBA"}[name])
        _info = BackendInfo(name=name, requested=requested, dtype=dtype,
                            detail=f"PyTensor {pytensor.__version__} · {detail}",
                            fallback_reason=reason)
    log.info(describe())
    return _info


def _enable_jax_cache(jax) -> None:
    """Persist XLA executables so a second launch skips most of the compile time."""
    try:
        jax.config.update("jax_compilation_cache_dir", str(cache_dir() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    except Exception as exc:  # an older/newer jax without these options: not worth failing for
        log.debug("JAX compile cache not enabled: %s", exc)


def info() -> BackendInfo:
    """The backend in force (configures the default one on first use)."""
    if _info is None:
        configure()
    assert _info is not None
    return _info


def get_mode():
    """The configured PyTensor mode: pass it to every ``pytensor.function``."""
    if _mode is None:
        configure()
    return _mode


def function(inputs, outputs, **kwargs):
    """``pytensor.function`` with the configured mode, counted (see :func:`compile_count`)."""
    global _compile_count
    import pytensor

    kwargs.setdefault("mode", get_mode())
    fn = pytensor.function(inputs, outputs, **kwargs)
    with _lock:
        _compile_count += 1
    return fn


def compile_count() -> int:
    """How many functions the engine has compiled in this process."""
    return _compile_count


def describe() -> str:
    """One line for the status bar and logs."""
    i = info()
    text = f"{i.detail} · {i.dtype} · 1 compute thread"
    if i.fallback_reason:
        text += f" (asked for {i.requested}: fell back)"
    return text
