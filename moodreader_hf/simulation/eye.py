"""Simulated eye-movement features (SEED-V layout): 33 values per window that move with the emotion.

Each feature is ``centre + spread * z`` in its own unit (mm, degrees, ms, Hz), where ``z`` is the sum of a subject
offset (between-subject sd 0.8), the emotion's shift from :data:`moodreader_hf.simulation.effects.EYE_EFFECTS`
scaled by the subject's eye-effect strength, and first-order autoregressive noise over windows (sd 1, lag-1 0.6).
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from .effects import EYE_EFFECTS, EYE_FEATURE_GROUPS, EYE_FEATURE_NAMES

_PUPIL_DE = (-0.5, 0.3)
EYE_FEATURE_SCALE: tuple[tuple[float, float], ...] = (
    (3.5, 0.3), (3.5, 0.3), (0.2, 0.05), (0.2, 0.05),
    *([_PUPIL_DE] * 8),
    (0.5, 0.1), (0.2, 0.05), (0.5, 0.1), (0.2, 0.05),
    (300.0, 50.0), (150.0, 30.0), (150.0, 30.0), (50.0, 10.0),
    (40.0, 8.0), (15.0, 3.0), (4.0, 1.0), (2.0, 0.5),
    (0.3, 0.1), (3.0, 0.4), (900.0, 200.0), (20.0, 4.0),
    (2.0, 0.4), (2.5, 0.4), (40.0, 8.0), (4.0, 1.0),
    (200.0, 30.0),
)  # fmt: skip
"""``(centre, spread)`` of each feature of :data:`EYE_FEATURE_NAMES`, in the feature's unit."""


def draw_eye_subject(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A subject's offset ``(33,)`` in spreads and its strength of the emotion effects."""
    return rng.normal(0.0, 0.8, len(EYE_FEATURE_NAMES)), float(rng.uniform(0.5, 1.5))


def emotion_shift(emotion: str) -> np.ndarray:
    """Shift ``(33,)`` in spreads that ``emotion`` plants on the eye features."""
    shift = np.zeros(len(EYE_FEATURE_NAMES))
    for group, size in EYE_EFFECTS[emotion].items():
        shift[list(EYE_FEATURE_GROUPS[group])] += size
    return shift


def simulate_eye(
    offset: np.ndarray, strength: float, emotion: str, n_windows: int, rng: np.random.Generator
) -> np.ndarray:
    """Eye features ``(n_windows, 33)`` float32 of one trial, in each feature's unit."""
    innovations = rng.standard_normal((n_windows, len(EYE_FEATURE_NAMES)))
    noise = scipy.signal.lfilter([0.8], [1.0, -0.6], innovations, axis=0)
    z = offset + strength * emotion_shift(emotion) + noise
    centre, spread = np.array(EYE_FEATURE_SCALE).T
    return (centre + spread * z).astype(np.float32)
