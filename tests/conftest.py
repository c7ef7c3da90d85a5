"""Shared fixtures: tiny model configurations that run in milliseconds on a CPU."""

from __future__ import annotations

import pytest
import torch

from moodreader_hf import MoodReaderConfig
from moodreader_hf.recordings import FetchError, fetch_physionet_sample

TINY = dict(
    hidden_size=16,
    num_attention_heads=2,
    intermediate_size=32,
    num_hidden_layers=2,
    decoder_hidden_size=8,
    max_windows=16,
    sequence_windows=4,
    hidden_dropout_prob=0.0,
    attention_dropout_prob=0.0,
    classifier_dropout_prob=0.0,
)


def tiny_config(**overrides) -> MoodReaderConfig:
    """A MoodReaderConfig small enough for unit tests; ``overrides`` replace any field."""
    return MoodReaderConfig(**{**TINY, **overrides})


@pytest.fixture
def config() -> MoodReaderConfig:
    return tiny_config()


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _folds_in_process(monkeypatch):
    """Folds train in the test's own process (a worker pool costs seconds to start); tests of the fold workers
    set ``MOODREADER_FOLD_WORKERS`` themselves."""
    monkeypatch.setenv("MOODREADER_FOLD_WORKERS", "0")


@pytest.fixture(scope="session")
def physionet_edf(request, tmp_path_factory):
    """The real PhysioNet EDF (64 electrodes, 160 Hz, 61 s), fetched once from PyPI into pytest's cache."""
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("physionet_sample") if cache else tmp_path_factory.mktemp("physionet_sample")
    try:
        return fetch_physionet_sample(folder)
    except FetchError as error:
        pytest.skip(f"the PhysioNet sample could not be downloaded from PyPI: {error}")
