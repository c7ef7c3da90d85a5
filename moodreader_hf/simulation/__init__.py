"""The package's embedded default data: a seeded simulator of SEED-like recordings, written in SEED's file layouts.

The data it writes is simulated, not real EEG; the output folder's ``SIMULATED.txt`` says so.
"""

from .effects import (
    PLANTED_EFFECTS,
    SEED_EMOTIONS,
    SEED_V_EMOTIONS,
    PlantedEffect,
    effect_log_power,
    planted_electrodes,
)
from .writer import DEFAULT_TRIAL_SECONDS, SEED_CLIP_LABELS, simulate_seed

__all__ = [
    "DEFAULT_TRIAL_SECONDS",
    "PLANTED_EFFECTS",
    "SEED_CLIP_LABELS",
    "SEED_EMOTIONS",
    "SEED_V_EMOTIONS",
    "PlantedEffect",
    "effect_log_power",
    "planted_electrodes",
    "simulate_seed",
]
