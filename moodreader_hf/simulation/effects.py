"""The effects planted by the simulator: which emotion changes which band's power over which electrodes.

The table is the ground truth of the simulated data. Explanations of a model trained on it (electrode importance)
should peak on the electrodes listed here, and tests check that the DE of simulated trials moves in the direction
given here.

Every gain is a multiplicative change of band *power* relative to the neutral baseline, so the DE of that band on
those electrodes moves by ``0.5 * ln(gain)`` (DE = 0.5 * ln(2*pi*e*power)). Each subject scales every effect by its
own strength (see :mod:`moodreader_hf.simulation.signals`), so the direction is shared and the size is not.

| emotion  | region                  | electrodes                                   | band  | power gain |
|----------|-------------------------|----------------------------------------------|-------|-----------:|
| positive | left frontal            | Fp1 AF3 F7 F5 F3 FC5 FC3                     | alpha | 0.55       |
| positive | lateral temporal        | FT7 T7 TP7 FT8 T8 TP8                        | beta  | 1.6        |
| positive | lateral temporal        | FT7 T7 TP7 FT8 T8 TP8                        | gamma | 1.8        |
| negative | right frontal           | Fp2 AF4 F8 F6 F4 FC6 FC4                     | alpha | 0.55       |
| negative | prefrontal              | Fp1 Fpz Fp2 AF3 AF4                          | gamma | 1.6        |
| negative | parieto-occipital       | P3 Pz P4 PO3 POz PO4 O1 Oz O2                | delta | 1.5        |
| neutral  | parieto-occipital       | P3 Pz P4 PO3 POz PO4 O1 Oz O2                | alpha | 1.6        |
| happy    | left frontal            | Fp1 AF3 F7 F5 F3 FC5 FC3                     | alpha | 0.55       |
| happy    | lateral temporal        | FT7 T7 TP7 FT8 T8 TP8                        | gamma | 1.8        |
| sad      | right frontal           | Fp2 AF4 F8 F6 F4 FC6 FC4                     | alpha | 0.55       |
| sad      | parieto-occipital       | P3 Pz P4 PO3 POz PO4 O1 Oz O2                | delta | 1.6        |
| fear     | fronto-central midline  | F1 Fz F2 FC1 FCz FC2 Cz                      | theta | 1.7        |
| fear     | right temporal          | FT8 T8 TP8                                   | beta  | 1.7        |
| disgust  | prefrontal              | Fp1 Fpz Fp2 AF3 AF4                          | gamma | 1.7        |
| disgust  | central                 | C3 C1 Cz C2 C4                               | beta  | 1.5        |

Positive and happy lower alpha power over the left frontal cortex (greater left frontal activity: the frontal alpha
asymmetry of approach emotions), negative and sad over the right. SEED's "neutral" and SEED-V's "neutral" share the
occipital alpha increase.

The eye-movement features (SEED-V layout only) move with arousal and valence, in units of the feature's
within-subject standard deviation (:data:`EYE_EFFECTS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..configuration_moodreader import BAND_NAMES, SEED_CHANNEL_NAMES

LEFT_FRONTAL = ("Fp1", "AF3", "F7", "F5", "F3", "FC5", "FC3")
RIGHT_FRONTAL = ("Fp2", "AF4", "F8", "F6", "F4", "FC6", "FC4")
LATERAL_TEMPORAL = ("FT7", "T7", "TP7", "FT8", "T8", "TP8")
RIGHT_TEMPORAL = ("FT8", "T8", "TP8")
PREFRONTAL = ("Fp1", "Fpz", "Fp2", "AF3", "AF4")
PARIETO_OCCIPITAL = ("P3", "Pz", "P4", "PO3", "POz", "PO4", "O1", "Oz", "O2")
FRONTOCENTRAL_MIDLINE = ("F1", "Fz", "F2", "FC1", "FCz", "FC2", "Cz")
CENTRAL = ("C3", "C1", "Cz", "C2", "C4")


@dataclass(frozen=True)
class PlantedEffect:
    """One row of the table: ``emotion`` multiplies the power of ``band`` on ``electrodes`` by ``gain``."""

    emotion: str
    region: str
    electrodes: tuple[str, ...]
    band: str
    gain: float


PLANTED_EFFECTS: tuple[PlantedEffect, ...] = (
    PlantedEffect("positive", "left frontal", LEFT_FRONTAL, "alpha", 0.55),
    PlantedEffect("positive", "lateral temporal", LATERAL_TEMPORAL, "beta", 1.6),
    PlantedEffect("positive", "lateral temporal", LATERAL_TEMPORAL, "gamma", 1.8),
    PlantedEffect("negative", "right frontal", RIGHT_FRONTAL, "alpha", 0.55),
    PlantedEffect("negative", "prefrontal", PREFRONTAL, "gamma", 1.6),
    PlantedEffect("negative", "parieto-occipital", PARIETO_OCCIPITAL, "delta", 1.5),
    PlantedEffect("neutral", "parieto-occipital", PARIETO_OCCIPITAL, "alpha", 1.6),
    PlantedEffect("happy", "left frontal", LEFT_FRONTAL, "alpha", 0.55),
    PlantedEffect("happy", "lateral temporal", LATERAL_TEMPORAL, "gamma", 1.8),
    PlantedEffect("sad", "right frontal", RIGHT_FRONTAL, "alpha", 0.55),
    PlantedEffect("sad", "parieto-occipital", PARIETO_OCCIPITAL, "delta", 1.6),
    PlantedEffect("fear", "fronto-central midline", FRONTOCENTRAL_MIDLINE, "theta", 1.7),
    PlantedEffect("fear", "right temporal", RIGHT_TEMPORAL, "beta", 1.7),
    PlantedEffect("disgust", "prefrontal", PREFRONTAL, "gamma", 1.7),
    PlantedEffect("disgust", "central", CENTRAL, "beta", 1.5),
)
"""The planted effects, one row per (emotion, region, band); see the module docstring for the table."""

SEED_EMOTIONS: tuple[str, ...] = ("negative", "neutral", "positive")
"""SEED's classes in label-index order (label -1, 0, 1 in ``label.mat``)."""

SEED_V_EMOTIONS: tuple[str, ...] = ("disgust", "fear", "sad", "neutral", "happy")
"""SEED-V's classes in label-index order (0 ... 4)."""

EYE_FEATURE_NAMES: tuple[str, ...] = (
    "pupil_x_mean", "pupil_y_mean", "pupil_x_std", "pupil_y_std",
    "pupil_x_de_0_0.2hz", "pupil_x_de_0.2_0.4hz", "pupil_x_de_0.4_0.6hz", "pupil_x_de_0.6_1hz",
    "pupil_y_de_0_0.2hz", "pupil_y_de_0.2_0.4hz", "pupil_y_de_0.4_0.6hz", "pupil_y_de_0.6_1hz",
    "dispersion_x_mean", "dispersion_x_std", "dispersion_y_mean", "dispersion_y_std",
    "fixation_duration_mean", "fixation_duration_std", "blink_duration_mean", "blink_duration_std",
    "saccade_duration_mean", "saccade_duration_std", "saccade_amplitude_mean", "saccade_amplitude_std",
    "blink_frequency", "fixation_frequency", "fixation_duration_max", "fixation_dispersion_total",
    "fixation_dispersion_max", "saccade_frequency", "saccade_duration_average", "saccade_amplitude_average",
    "saccade_latency_average",
)  # fmt: skip
"""The 33 eye-movement features per window of SEED-V, in this package's simulated order."""

EYE_FEATURE_GROUPS: dict[str, tuple[int, ...]] = {
    "pupil": tuple(range(0, 12)),
    "fixation": (16, 17, 25, 26, 27, 28),
    "blink": (18, 19, 24),
    "saccade": (20, 21, 22, 23, 29, 30, 31, 32),
    "dispersion": (12, 13, 14, 15),
}
"""Feature indices into :data:`EYE_FEATURE_NAMES` by kind."""

EYE_EFFECTS: dict[str, dict[str, float]] = {
    "disgust": {"pupil": 0.6, "blink": 1.0, "fixation": -0.4},
    "fear": {"pupil": 1.2, "saccade": 1.0, "fixation": -0.8},
    "sad": {"pupil": -0.8, "fixation": 0.9, "saccade": -0.6},
    "neutral": {},
    "happy": {"pupil": 0.8, "saccade": 0.5, "dispersion": 0.7},
}
"""Shift of each group of eye features per emotion, in within-subject standard deviations (neutral = 0)."""


def effect_log_power(emotion: str, weights: np.ndarray | None = None) -> np.ndarray:
    """Natural-log power change ``(channels, bands)`` that ``emotion`` plants on the SEED montage.

    Args:
        emotion: A name from :data:`SEED_EMOTIONS` or :data:`SEED_V_EMOTIONS`.
        weights: Optional multiplier per row of :data:`PLANTED_EFFECTS` (a subject's strength of each effect).
    """
    strengths = np.ones(len(PLANTED_EFFECTS)) if weights is None else np.asarray(weights, dtype=np.float64)
    change = np.zeros((len(SEED_CHANNEL_NAMES), len(BAND_NAMES)))
    for effect, strength in zip(PLANTED_EFFECTS, strengths):
        if effect.emotion == emotion:
            channels = [SEED_CHANNEL_NAMES.index(name) for name in effect.electrodes]
            change[channels, BAND_NAMES.index(effect.band)] += strength * np.log(effect.gain)
    return change


def planted_electrodes(emotion: str) -> tuple[str, ...]:
    """Electrodes on which ``emotion`` has at least one planted effect, in montage order."""
    names = {name for effect in PLANTED_EFFECTS if effect.emotion == emotion for name in effect.electrodes}
    return tuple(name for name in SEED_CHANNEL_NAMES if name in names)
