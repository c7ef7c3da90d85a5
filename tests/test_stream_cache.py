"""A small corpus read by one process is decoded once and kept: every later epoch yields exactly the rows, in the
order, that streaming it through ``datasets`` again yields, and a corpus beyond the cache's budget is streamed."""

from __future__ import annotations

import numpy as np
import pytest

from moodreader_hf.builders import build_corpus
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training import stream
from moodreader_hf.training.stream import SignalBatches, open_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    root = simulate_seed(folder / "raw", n_subjects=2, n_sessions=1, trial_seconds=12, seed=9, progress=False)
    built = build_corpus([root], folder / "corpus", layout="seed-raw", sequence_windows=4, shard_size_mb=0.5,
                         progress=False)
    source = open_corpus(built)
    assert len(source.files) >= 3
    return source


def _epochs(source, epochs: int, *, cached: bool) -> list[list[tuple[np.ndarray, list[str]]]]:
    reader = stream._SourceReader(source, seed=4)
    if not cached:
        reader._cache = None
    return [list(reader.rows(epoch, 0, 1)) for epoch in range(epochs)]


def _same(left, right) -> bool:
    return len(left) == len(right) and all(
        names_a == names_b and np.array_equal(signal_a, signal_b)
        for (signal_a, names_a), (signal_b, names_b) in zip(left, right))


def test_cached_epochs_equal_streamed_epochs(corpus):
    cached, streamed = _epochs(corpus, 3, cached=True), _epochs(corpus, 3, cached=False)
    assert len(streamed[0]) == corpus.rows
    for epoch in range(3):
        assert _same(cached[epoch], streamed[epoch]), epoch
    assert not _same(streamed[0], streamed[1])  # the shard order changes between epochs


def test_a_corpus_over_the_budget_is_streamed(corpus, monkeypatch):
    monkeypatch.setattr(stream, "CACHE_BYTES", 1)
    reader = stream._SourceReader(corpus, seed=4)
    first = list(reader.rows(0, 0, 1))
    assert reader._cache is None
    assert _same(first, _epochs(corpus, 1, cached=False)[0])
    assert _same(list(reader.rows(1, 0, 1)), _epochs(corpus, 2, cached=False)[1])


def test_batches_and_resumption_are_those_of_the_stream(corpus):
    """The padded batches of three epochs, and a stream resumed mid-epoch, with and without the cache."""
    def batches(cached: bool, start=None, count=9):
        signal_batches = SignalBatches([corpus], batch_size=5, buffer_size=7, seed=2, rank=0, world_size=1,
                                       start=start)
        if not cached:
            for reader in signal_batches.readers:
                reader._cache = None
        iterator = iter(signal_batches)
        return [next(iterator) for _ in range(count)], signal_batches.position

    cached, position = batches(True)
    streamed, _ = batches(False)
    for a, b in zip(cached, streamed):
        assert all(np.array_equal(a[key].numpy(), b[key].numpy()) for key in a)
    resumed, _ = batches(True, start=position, count=2)
    reference, _ = batches(False, count=11)
    for a, b in zip(resumed, reference[9:]):
        assert all(np.array_equal(a[key].numpy(), b[key].numpy()) for key in a)


def test_a_built_dataset_is_read_without_its_tail_rows(tmp_path):
    """Pre-training on a built dataset reads each regular row's recorded channels once, and no tail row (whose
    windows repeat the row before it): the rows, as a set, are those ``datasets`` gives with ``tail`` false."""
    from moodreader_hf.builders import build_dataset, load_built_dataset
    from moodreader_hf.training.stream import open_signal_dataset

    root = simulate_seed(tmp_path / "raw", n_subjects=2, n_sessions=1, trial_seconds=9, seed=5, progress=False)
    built = build_dataset("seed-raw", root, tmp_path / "dataset", sequence_windows=4, stride=4, include_signal=True,
                          progress=False)
    table = load_built_dataset(built)[0]["train"].with_format("numpy")[:]
    regular = ~table["tail"]
    assert table["tail"].any() and regular.any()
    source = open_signal_dataset(built)
    assert source.rows == int(regular.sum())
    read = list(stream._SourceReader(source, seed=1).rows(0, 0, 1))
    expected = [signal[mask.astype(bool)] for signal, mask in zip(table["signal"][regular],
                                                                 table["channel_mask"][regular])]
    assert sorted(signal.tobytes() for signal, _ in read) == sorted(signal.astype(np.float32).tobytes()
                                                                   for signal in expected)
