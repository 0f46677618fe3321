"""U's eigenvalues per gate block against numpy.linalg.eigvals of the block cut by hand."""

import numpy as np
import pytest

from engine import spectrum
from engine.limits import MAX_SPECTRUM_UNITS
from engine.model import ModelSpec, init_params
from engine.names import U_BLOCKS


@pytest.mark.parametrize("cell", sorted(U_BLOCKS))
def test_eigenvalues_of_each_gate_block_match_numpy(cell):
    spec = ModelSpec(cell, "forecast", 2, (5, 4), 1)
    params = init_params(spec, seed=4, dtype="float64")
    rng = np.random.default_rng(1)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    spectra = spectrum.layer_spectra(cell, params)
    assert len(spectra) == 2
    for layer, H in enumerate(spec.hidden_sizes, start=1):
        U = params[f"U{layer}"]
        assert list(spectra[layer - 1]) == list(U_BLOCKS[cell])
        for k, name in enumerate(U_BLOCKS[cell]):
            expected = np.linalg.eigvals(U[:, k * H:(k + 1) * H])
            got = spectra[layer - 1][name]
            assert got.shape == (H,)
            # same multiset: sort both by (real, imag)
            np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(expected.astype(np.complex64)),
                                       rtol=1e-4, atol=1e-5)
            assert spectrum.radii(spectra)[layer - 1][name] == pytest.approx(np.max(np.abs(expected)), rel=1e-5)


def test_orthogonal_initialisation_has_radius_one():
    spec = ModelSpec("gru", "forecast", 1, (6,), 1)
    radii = spectrum.radii(spectrum.layer_spectra("gru", init_params(spec, seed=0, dtype="float64")))
    assert radii[0] == pytest.approx({"z": 1.0, "r": 1.0, "n": 1.0}, abs=1e-5)


def test_wrong_shape_and_wide_layers():
    with pytest.raises(ValueError, match=r"\(H, 3\*H\)"):
        spectrum.recurrent_blocks("gru", np.zeros((4, 8)))
    assert spectrum.eigenvalues("elman", np.zeros((MAX_SPECTRUM_UNITS + 1, MAX_SPECTRUM_UNITS + 1))) == {}
    assert np.isnan(spectrum.spectral_radius([]))
