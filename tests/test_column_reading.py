"""Columns read from the Arrow buffers (``read_columns``) equal the rows as ``datasets`` yields them one by one,
for every column kind a built dataset holds, across shards, through an index mapping, and with the cases the
buffer path must hand back (nulls, ragged rows)."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Array2D, Array3D, Dataset, Features, List, Value, load_from_disk

from moodreader_hf.training.data import read_columns, tensors_from_dataset

ROWS = 23


def _rows_one_by_one(dataset, name: str) -> np.ndarray:
    """The column as plain Python rows turned into one array: the recipe independent of any formatter."""
    return np.array([row[name] for row in dataset])


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    rng = np.random.default_rng(7)
    features = Features({
        "subject": Value("string"),
        "trial": Value("int32"),
        "tail": Value("bool"),
        "de": Array3D(shape=(3, 4, 5), dtype="float32"),
        "signal": Array2D(shape=(4, 40), dtype="float32"),
        "channel_mask": List(Value("int8"), length=4),
        "ragged": List(Value("float32")),
    })
    data = {
        "subject": [f"s{index % 5}" for index in range(ROWS)],
        "trial": list(range(ROWS)),
        "tail": [index % 4 == 0 for index in range(ROWS)],
        "de": rng.normal(size=(ROWS, 3, 4, 5)).astype(np.float32),
        "signal": (20 * rng.normal(size=(ROWS, 4, 40))).astype(np.float32),
        "channel_mask": rng.integers(0, 2, size=(ROWS, 4)).astype(np.int8),
        "ragged": [rng.normal(size=1 + index % 3).astype(np.float32) for index in range(ROWS)],
    }
    folder = tmp_path_factory.mktemp("columns") / "dataset"
    Dataset.from_dict(data, features=features).save_to_disk(str(folder), num_shards=3)
    dataset = load_from_disk(str(folder))
    assert len(dataset.data.table.column("signal").chunks) >= 3
    return dataset


@pytest.mark.parametrize("name", ["subject", "trial", "tail", "de", "signal", "channel_mask"])
def test_every_column_equals_the_rows_one_by_one(sharded, name):
    read = read_columns(sharded, [name])[name]
    expected = _rows_one_by_one(sharded, name)
    assert read.shape == expected.shape
    np.testing.assert_array_equal(read, expected)


def test_an_index_mapping_is_followed(sharded):
    view = sharded.select([17, 3, 3, 22, 0]).shuffle(seed=1)
    read = read_columns(view, ["de", "signal", "trial"])
    for name in ("de", "signal", "trial"):
        np.testing.assert_array_equal(read[name], _rows_one_by_one(view, name))


def test_ragged_rows_and_nulls_take_the_general_path(sharded):
    ragged = read_columns(sharded, ["ragged"])["ragged"]
    for got, row in zip(ragged, sharded):
        np.testing.assert_array_equal(got, np.asarray(row["ragged"], dtype=np.float32))
    with_null = Dataset.from_dict({"signal": [np.ones((2, 3), np.float32), None]},
                                  features=Features({"signal": Array2D(shape=(2, 3), dtype="float32")}))
    read = read_columns(with_null, ["signal"])["signal"]
    assert read[1] is None or np.isnan(np.asarray(read[1], dtype=float)).all()
    np.testing.assert_array_equal(np.asarray(read[0], dtype=np.float32), np.ones((2, 3)))


def test_tensors_in_the_model_montage_order_whatever_the_stored_order(tmp_path):
    """A dataset whose electrodes are stored in another order (one of the model's missing) loads into the model's
    order, absent electrodes zero and masked; one stored in the model's order loads as stored."""
    rng = np.random.default_rng(3)
    stored = ["CZ", "FP1", "O2"]
    model = ["FP1", "FP2", "CZ", "O2"]
    de = rng.normal(size=(6, 2, 3, 5)).astype(np.float32)
    signal = rng.normal(size=(6, 3, 400)).astype(np.float32)
    features = Features({"subject": Value("string"), "session": Value("string"), "trial": Value("int32"),
                         "start": Value("int32"), "de": Array3D(shape=(2, 3, 5), dtype="float32"),
                         "signal": Array2D(shape=(3, 400), dtype="float32"), "label": Value("int64")})
    folder = tmp_path / "dataset"
    Dataset.from_dict({"subject": ["1"] * 6, "session": ["1"] * 6, "trial": list(range(6)), "start": [0] * 6,
                       "de": de, "signal": signal, "label": [0, 1, 2, 0, 1, 2]},
                      features=features).save_to_disk(str(folder), num_shards=2)
    dataset, metadata = load_from_disk(str(folder)), {"channel_names": stored}
    need = ("de", "label", "signal")
    tensors = tensors_from_dataset(dataset, metadata, channel_names=model, need=need)
    for target, name in enumerate(model):
        if name in stored:
            source = stored.index(name)
            np.testing.assert_array_equal(tensors.de.numpy()[:, :, target], de[:, :, source])
            np.testing.assert_array_equal(tensors.signal.numpy()[:, target], signal[:, source])
            assert (tensors.channel_mask.numpy()[:, target] == 1).all()
        else:
            assert not tensors.de.numpy()[:, :, target].any() and not tensors.signal.numpy()[:, target].any()
            assert (tensors.channel_mask.numpy()[:, target] == 0).all()
    same = tensors_from_dataset(dataset, metadata, channel_names=stored, need=need)
    np.testing.assert_array_equal(same.de.numpy(), de)
    np.testing.assert_array_equal(same.signal.numpy(), signal)
    assert same.de.numpy().flags.writeable and same.signal.numpy().flags.writeable
