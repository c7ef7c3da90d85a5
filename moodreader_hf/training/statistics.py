"""Summaries of per-subject and per-seed numbers: mean and standard deviation, Student-t 95 % confidence
intervals, and the paired Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) of the model against a baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (``ddof=0``, the spread over subjects that papers quote)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std())


def confidence_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> list[float] | None:
    """``[low, high]`` of the Student-t interval of the mean, ``mean ± t(1 - (1 - c) / 2, n - 1) * s / sqrt(n)``
    with the sample standard deviation ``s`` (``ddof=1``); ``None`` for fewer than two values."""
    array = np.asarray(values, dtype=np.float64)
    if array.size < 2:
        return None
    half = stats.t.ppf(0.5 + confidence / 2, array.size - 1) * array.std(ddof=1) / np.sqrt(array.size)
    return [float(array.mean() - half), float(array.mean() + half)]


def wilcoxon_test(model: Sequence[float], baseline: Sequence[float]) -> dict[str, Any]:
    """Two-sided paired Wilcoxon signed-rank test of ``model`` against ``baseline`` (one value per subject, same
    order): ``statistic``, ``p_value`` (``None`` when every difference is zero, so no test exists) and ``n``."""
    model, baseline = np.asarray(model, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    differences = model - baseline
    result: dict[str, Any] = {"test": "Wilcoxon signed-rank, two-sided, paired over subjects", "n": int(model.size),
                              "nonzero_differences": int(np.count_nonzero(differences)),
                              "median_difference": float(np.median(differences)) if model.size else None}
    if not np.count_nonzero(differences):
        return {**result, "statistic": None, "p_value": None}
    tested = stats.wilcoxon(model, baseline)
    return {**result, "statistic": float(tested.statistic), "p_value": float(tested.pvalue)}
