"""Helpers shared by the engine.data tests."""

import os

import pytest

from engine.data import DataError, load_sequences


def load_error(path, **options) -> str:
    """The DataError message of loading ``path``; it must name the file and carry a hint."""
    with pytest.raises(DataError) as err:
        load_sequences(path, **options)
    message = str(err.value)
    assert message.startswith(os.path.basename(str(path))), message
    assert ";" in message, f"no hint in: {message}"
    return message
