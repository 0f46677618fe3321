"""The recurrent matrix's eigenvalues: the exploding/vanishing picture of each layer.

``U`` of layer ``l`` is ``(H, G*H)``: one ``(H, H)`` block per gate (``engine.names.U_BLOCKS``,
left to right in engine.model's gate order). A block's spectral radius above 1 lets that path
amplify a state step after step; well below 1 it forgets. NumPy only.
"""

from __future__ import annotations

import numpy as np

from engine.limits import MAX_SPECTRUM_UNITS
from engine.names import U_BLOCKS


def recurrent_blocks(cell: str, U) -> dict:
    """``{block: (H, H) array}`` of one layer's recurrent matrix ``U`` (H, G*H)."""
    U = np.asarray(U)
    names = U_BLOCKS[cell]
    H = U.shape[0]
    if U.ndim != 2 or U.shape[1] != H * len(names):
        raise ValueError(f"a {cell} layer's U must be (H, {len(names)}*H), got {U.shape}")
    return {name: U[:, k * H:(k + 1) * H] for k, name in enumerate(names)}


def eigenvalues(cell: str, U) -> dict:
    """``{block: complex64 (H,) eigenvalues}``, sorted by modulus (largest first); {} when the
    layer is wider than ``MAX_SPECTRUM_UNITS`` (an O(H^3) decomposition the run cannot afford)."""
    U = np.asarray(U)
    if U.shape[0] > MAX_SPECTRUM_UNITS:
        return {}
    out = {}
    for name, block in recurrent_blocks(cell, U).items():
        values = np.linalg.eigvals(np.asarray(block, dtype=np.float64))
        out[name] = values[np.argsort(-np.abs(values), kind="stable")].astype(np.complex64)
    return out


def layer_spectra(cell: str, params) -> list:
    """Per layer (1-based names U1, U2, ...), :func:`eigenvalues` of its recurrent matrix."""
    out = []
    layer = 1
    while f"U{layer}" in params:
        out.append(eigenvalues(cell, params[f"U{layer}"]))
        layer += 1
    return out


def spectral_radius(values) -> float:
    """Largest modulus of an eigenvalue array (nan for none)."""
    values = np.asarray(values)
    return float(np.max(np.abs(values))) if values.size else float("nan")


def radii(spectra: list) -> list:
    """Per layer ``{block: spectral radius}`` of :func:`layer_spectra`'s result."""
    return [{name: spectral_radius(values) for name, values in layer.items()} for layer in spectra]
