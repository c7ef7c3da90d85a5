"""The dataset decides the features: what a built dataset's metadata says about its DE becomes the saved feature
extractor, and a recipe that disagrees with it is refused before any work.

Fields compared (dataset metadata -> recipe): ``window_seconds`` -> ``model.window_seconds``, ``band_edges`` ->
``model.band_edges``, ``sampling_rate`` -> ``model.sampling_rate`` (DE computed here, or a raw-signal column),
``method`` -> ``dataset.method`` (DE computed here), ``smoothing`` -> ``dataset.smoothing`` and
``moving_average_window`` -> ``dataset.moving_average_window`` (when the dataset states its smoothing).

The model's feature fields that a recipe leaves out (``sampling_rate``, ``window_seconds``, the bands) are the
dataset's (:func:`dataset_feature_config`): a recipe for your own recordings need not repeat their rate or bands,
and one that states them must agree. Bands are stated by ``dataset.bands`` or by ``model.band_edges``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..configuration_moodreader import MoodReaderConfig
from ..features import band_table
from ..feature_extraction_moodreader import SMOOTHINGS, MoodReaderFeatureExtractor
from ..validation import fail
from .recipe import Recipe


def _differs(dataset_value: Any, recipe_value: Any) -> bool:
    if isinstance(dataset_value, (list, tuple)) or isinstance(recipe_value, (list, tuple)):
        left, right = np.asarray(dataset_value, dtype=float), np.asarray(recipe_value, dtype=float)
        return left.shape != right.shape or not np.allclose(left, right)
    if isinstance(dataset_value, (int, float)) and isinstance(recipe_value, (int, float)):
        return not np.isclose(float(dataset_value), float(recipe_value))
    return dataset_value != recipe_value


def dataset_feature_config(recipe: Recipe, metadata: dict[str, Any]) -> dict[str, Any]:
    """The :class:`MoodReaderConfig` feature fields the dataset decides because the recipe does not state them:
    ``sampling_rate`` and ``window_seconds`` (from the metadata, unless in the recipe's ``model`` section) and
    ``band_names``, ``band_edges``, ``num_bands`` (from ``dataset.bands`` when set, else from the metadata unless
    the ``model`` section sets one of them). A model that does not use the raw signal and whose recipe leaves
    ``signal_patch_size`` out gets one patch per window when the default does not divide the window's samples at the
    dataset's rate (a patch of 256 samples for 1 s windows at 256 Hz). Pass them to
    ``recipe.model_config(**fields)``."""
    fields: dict[str, Any] = {}
    for key in ("sampling_rate", "window_seconds"):
        if key not in recipe.model and metadata.get(key) is not None:
            fields[key] = metadata[key]
    rate = recipe.model.get("sampling_rate", metadata.get("sampling_rate"))
    seconds = recipe.model.get("window_seconds", metadata.get("window_seconds"))
    signal = bool(metadata.get("include_signal")) and recipe.finetune.use_signal is not False
    if rate and seconds and not signal and "signal_patch_size" not in recipe.model:
        samples = round(rate * seconds)
        if samples % MoodReaderConfig.signal_patch_size:
            fields["signal_patch_size"] = samples
    if recipe.dataset.bands is not None:
        names, edges = band_table(recipe.dataset.bands, "recipe")
    elif not {"band_edges", "band_names", "num_bands"} & set(recipe.model) and metadata.get("band_edges"):
        names, edges = tuple(metadata["band_names"]), tuple(map(tuple, metadata["band_edges"]))
    else:
        return fields
    return {**fields, "band_names": list(names), "band_edges": [list(edge) for edge in edges], "num_bands": len(edges)}


def check_recipe_against_dataset(recipe: Recipe, metadata: dict[str, Any], source: str, *,
                                 uses_signal: bool) -> None:
    """Raise naming the field, the dataset's value and the recipe's value at the first disagreement."""
    try:
        config = recipe.model_config(**dataset_feature_config(recipe, metadata))
    except ValueError as error:
        fail(source, "model", "a recipe whose architecture fits the dataset's rate, window and bands "
             f"({metadata.get('sampling_rate')} Hz, {metadata.get('window_seconds')} s)", str(error).rstrip("."))
    computed = metadata.get("de_source", "computed") == "computed"
    checks = [("window_seconds", metadata.get("window_seconds"), config.window_seconds, "model.window_seconds"),
              ("band_edges", metadata.get("band_edges"), config.band_edges,
               "dataset.bands" if recipe.dataset.bands is not None else "model.band_edges")]
    if computed or uses_signal:
        checks.append(("sampling_rate", metadata.get("sampling_rate"), config.sampling_rate, "model.sampling_rate"))
    if computed and metadata.get("method") is not None:
        checks.append(("method", metadata["method"], recipe.dataset.method, "dataset.method"))
    smoothing = metadata.get("smoothing")
    if smoothing in SMOOTHINGS:
        checks.append(("smoothing", smoothing, recipe.dataset.smoothing, "dataset.smoothing"))
        if smoothing == "moving_average" and metadata.get("moving_average_window") is not None:
            checks.append(("moving_average_window", metadata["moving_average_window"],
                           recipe.dataset.moving_average_window, "dataset.moving_average_window"))
    for field, dataset_value, recipe_value, recipe_field in checks:
        if dataset_value is not None and _differs(dataset_value, recipe_value):
            fail(source, field, f"the recipe's {recipe_field} = {recipe_value!r} (the dataset decides the features: "
                 "rebuild the dataset or change the recipe)", f"{dataset_value!r} in the dataset")


def dataset_extractor(metadata: dict[str, Any], config: MoodReaderConfig, **statistics: Any
                      ) -> MoodReaderFeatureExtractor:
    """The feature extractor a model trained on this dataset needs at inference: the dataset's window, bands,
    rate, DE method and smoothing, its DE source (a ``"distributed"`` one refuses raw signals), and the
    normalisation ``statistics`` (``de_mean``, ``de_std``, ``eye_mean``, ``eye_std``) of the training rows."""
    smoothing = metadata.get("smoothing")
    distributed = metadata.get("de_source") == "distributed"
    return MoodReaderFeatureExtractor(
        sampling_rate=metadata.get("sampling_rate", config.sampling_rate), channel_names=config.channel_names,
        band_edges=metadata.get("band_edges", config.band_edges),
        window_seconds=metadata.get("window_seconds", config.window_seconds),
        method=metadata.get("method") or "stft",
        smoothing=smoothing if smoothing in SMOOTHINGS else "none",
        moving_average_window=metadata.get("moving_average_window") or 5,
        de_source="distributed" if distributed else "computed",
        dataset=str(metadata.get("dataset_id") or metadata.get("layout")) if distributed else None,
        **statistics,
    )
