"""The signal model of the simulator: 62-electrode EEG at 200 Hz in microvolts, built in the frequency domain.

One trial of one subject in one session is Gaussian noise shaped per electrode and frequency, then made spatially
correlated and modulated slowly in time:

- **background**: a 1/f^tilt power spectrum (flat below 1 Hz, band-limited to 0.5-75 Hz like SEED's preprocessing),
  mixed across electrodes with a correlation that decays with scalp distance (neighbours correlate at about 0.6);
- **alpha rhythm**: a spectral peak at the subject's alpha frequency, strongest over parieto-occipital electrodes;
- **emotion**: the power changes of :data:`moodreader_hf.simulation.effects.PLANTED_EFFECTS`, scaled by the
  subject's strength of each effect and by a per-trial intensity;
- **subject**: an electrode gain map (impedance and skull thickness), a smooth log-power offset per electrode and
  band, its own spectral tilt, alpha frequency and alpha strength, its own strength of every emotion effect, and
  its own (idiosyncratic) response to each emotion away from the planted electrodes and bands.
  These make a classifier trained on other subjects see shifted features: cross-subject transfer is harder than
  within-subject;
- **session**: a small electrode gain change (the cap is put on again);
- **trial**: random power jitter per electrode and band, a per-trial emotion intensity, and a slow (< 0.1 Hz)
  common amplitude drift (vigilance).

Everything is vectorised over electrodes and frequencies: one complex Gaussian draw, one matrix product for the
spatial mixing and one inverse FFT per trial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..configuration_moodreader import BAND_EDGES, SEED_CHANNEL_NAMES
from .effects import PLANTED_EFFECTS, SEED_EMOTIONS, SEED_V_EMOTIONS, effect_log_power

SAMPLING_RATE = 200
"""Sampling rate of the simulated signals in Hz (SEED's preprocessed rate)."""

PASSBAND = (0.5, 75.0)
"""Frequencies in Hz kept in the simulated signals (SEED: band-passed 0-75 Hz)."""

BACKGROUND_RMS_UV = 20.0
"""Root-mean-square amplitude in microvolts of the background of an electrode with unit gain."""

IDIOSYNCRATIC_SD = 0.25
"""Standard deviation (natural-log power) of each subject's own response pattern to each emotion."""

_ALL_EMOTIONS = tuple(dict.fromkeys(SEED_EMOTIONS + SEED_V_EMOTIONS))

_GRID_ROWS: tuple[tuple[float, tuple[tuple[str, float], ...]], ...] = (
    (4.0, (("Fp1", -1.0), ("Fpz", 0.0), ("Fp2", 1.0))),
    (3.0, (("AF3", -1.5), ("AF4", 1.5))),
    (2.0, tuple(zip(("F7", "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8"), range(-4, 5)))),
    (1.0, tuple(zip(("FT7", "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6", "FT8"), range(-4, 5)))),
    (0.0, tuple(zip(("T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8"), range(-4, 5)))),
    (-1.0, tuple(zip(("TP7", "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "TP8"), range(-4, 5)))),
    (-2.0, tuple(zip(("P7", "P5", "P3", "P1", "Pz", "P2", "P4", "P6", "P8"), range(-4, 5)))),
    (-3.0, tuple(zip(("PO7", "PO5", "PO3", "POz", "PO4", "PO6", "PO8"), range(-3, 4)))),
    (-4.0, (("O1", -1.0), ("Oz", 0.0), ("O2", 1.0))),
    (-4.5, (("CB1", -2.0), ("CB2", 2.0))),
)


def electrode_positions() -> np.ndarray:
    """Flat scalp positions ``(channels, 2)`` of the SEED montage on a grid where neighbours are 1 apart (x: left to
    right, y: back to front), in :data:`SEED_CHANNEL_NAMES` order."""
    positions = {name: (float(x), y) for y, row in _GRID_ROWS for name, x in row}
    return np.array([positions[name] for name in SEED_CHANNEL_NAMES])


def spatial_mixing(length_scale: float = 1.2, local_fraction: float = 0.2) -> np.ndarray:
    """Lower-triangular ``(channels, channels)`` factor of the electrode correlation matrix.

    Correlation = ``(1 - local_fraction) * exp(-d^2 / (2 * length_scale^2)) + local_fraction * I`` with ``d`` the
    grid distance, so every electrode has unit variance and neighbours (d = 1) correlate at about 0.57.
    """
    positions = electrode_positions()
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    correlation = (1 - local_fraction) * np.exp(-(distance**2) / (2 * length_scale**2)) + local_fraction * np.eye(
        len(positions)
    )
    return np.linalg.cholesky(correlation)


def _smooth_field(rng: np.random.Generator, mixing: np.ndarray, columns: int) -> np.ndarray:
    """Spatially smooth standard-normal values ``(channels, columns)``."""
    return mixing @ rng.standard_normal((mixing.shape[0], columns))


def planted_cells() -> np.ndarray:
    """``(channels, bands)`` True where any emotion has a planted effect."""
    return np.any([effect_log_power(emotion) != 0 for emotion in _ALL_EMOTIONS], axis=0)


@dataclass(frozen=True)
class SubjectProfile:
    """What makes one simulated subject differ from another (all fixed across the subject's sessions).

    Attributes:
        channel_gain: Amplitude gain per electrode ``(channels,)`` (impedance, skull thickness).
        band_offset: Natural-log power offset per electrode and band ``(channels, bands)``.
        tilt: Exponent of the 1/f background power spectrum.
        alpha_frequency: Centre of the alpha peak in Hz.
        alpha_gain: Height of the alpha peak over occipital electrodes, relative to the background at that frequency.
        effect_strength: This subject's strength of each row of ``PLANTED_EFFECTS`` ``(rows,)``.
        idiosyncratic: Per emotion, this subject's own natural-log power change ``(channels, bands)`` (spatially
            smooth, sd :data:`IDIOSYNCRATIC_SD`), zero on every (electrode, band) that carries a planted effect, so
            the planted directions hold in every subject: learnable within the subject, noise for a model trained
            on others.
        initials: Prefix of the raw-signal keys in ``Preprocessed_EEG`` files (``<initials>_eeg1``).
    """

    channel_gain: np.ndarray
    band_offset: np.ndarray
    tilt: float
    alpha_frequency: float
    alpha_gain: float
    effect_strength: np.ndarray
    idiosyncratic: dict[str, np.ndarray]
    initials: str


def draw_subject(rng: np.random.Generator, mixing: np.ndarray) -> SubjectProfile:
    """Draw one subject's profile from ``rng``."""
    channels = mixing.shape[0]
    log_gain = 0.25 * _smooth_field(rng, mixing, 1)[:, 0] + 0.12 * rng.standard_normal(channels)
    overall = rng.uniform(0.5, 1.5)
    letters = rng.integers(0, 26, size=int(rng.integers(2, 4)))
    return SubjectProfile(
        channel_gain=np.exp(log_gain),
        band_offset=0.35 * _smooth_field(rng, mixing, len(BAND_EDGES)) + rng.normal(0, 0.3, len(BAND_EDGES)),
        tilt=float(rng.uniform(1.4, 2.2)),
        alpha_frequency=float(rng.uniform(8.5, 11.5)),
        alpha_gain=float(rng.uniform(2.0, 8.0)),
        effect_strength=overall * rng.uniform(0.5, 1.5, len(PLANTED_EFFECTS)),
        idiosyncratic={
            emotion: IDIOSYNCRATIC_SD * _smooth_field(rng, mixing, len(BAND_EDGES)) * ~planted_cells()
            for emotion in _ALL_EMOTIONS
        },
        initials="".join(chr(ord("a") + int(letter)) for letter in letters),
    )


def draw_session_gain(rng: np.random.Generator, mixing: np.ndarray) -> np.ndarray:
    """Amplitude gain per electrode ``(channels,)`` of one session (the cap is put on again)."""
    return np.exp(0.06 * _smooth_field(rng, mixing, 1)[:, 0] + 0.03 * rng.standard_normal(mixing.shape[0]))


def occipital_weight() -> np.ndarray:
    """Alpha topography ``(channels,)``: 1 at Oz, falling with distance towards the front (0.1 at the frontal pole)."""
    positions = electrode_positions()
    distance = np.linalg.norm(positions - np.array([0.0, -4.0]), axis=1)
    return 0.1 + 0.9 * np.exp(-(distance**2) / (2 * 2.5**2))


def _band_index(freqs: np.ndarray) -> np.ndarray:
    """Index of each frequency's band in ``BAND_EDGES`` (``[low, high)``), or ``len(BAND_EDGES)`` outside all bands."""
    index = np.full(freqs.shape, len(BAND_EDGES))
    for band, (low, high) in enumerate(BAND_EDGES):
        index[(freqs >= low) & (freqs < high)] = band
    return index


def simulate_trial(
    subject: SubjectProfile,
    session_gain: np.ndarray,
    emotion: str,
    n_samples: int,
    rng: np.random.Generator,
    mixing: np.ndarray,
) -> np.ndarray:
    """One trial's signal ``(channels, n_samples)`` float32 in microvolts at :data:`SAMPLING_RATE` Hz."""
    channels = mixing.shape[0]
    freqs = np.fft.rfftfreq(n_samples, 1 / SAMPLING_RATE)
    inside = (freqs >= PASSBAND[0]) & (freqs <= PASSBAND[1])
    background = np.where(inside, np.maximum(freqs, 1.0) ** -subject.tilt, 0.0)
    peak = np.exp(-((freqs - subject.alpha_frequency) ** 2) / (2 * 1.0**2)) * inside
    alpha_level = subject.alpha_gain * max(subject.alpha_frequency, 1.0) ** -subject.tilt
    power = background[None, :] + (alpha_level * occipital_weight())[:, None] * peak[None, :]

    intensity = float(np.clip(rng.normal(1.0, 0.25), 0.3, 1.7))
    log_power = (
        subject.band_offset
        + intensity * (effect_log_power(emotion, subject.effect_strength) + subject.idiosyncratic[emotion])
        + rng.normal(0.0, 0.15, (channels, len(BAND_EDGES)))
        + rng.normal(0.0, 0.1, (1, len(BAND_EDGES)))
    )
    band_gain = np.concatenate([np.exp(log_power), np.ones((channels, 1))], axis=1)
    power *= band_gain[:, _band_index(freqs)]
    gain = subject.channel_gain * session_gain
    scale = BACKGROUND_RMS_UV / np.sqrt(4.0 / n_samples**2 * background.sum())
    amplitude = (np.sqrt(power) * (scale * gain)[:, None]).astype(np.float32)

    noise = rng.standard_normal((channels, 2 * freqs.size), dtype=np.float32)
    spectrum = (mixing.astype(np.float32) @ noise).view(np.complex64) * amplitude
    signal = np.fft.irfft(spectrum, n=n_samples, axis=1)

    drift_noise = rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)
    drift = np.fft.irfft(drift_noise * ((freqs > 0) & (freqs < 0.1)), n=n_samples)
    drift /= max(float(drift.std()), 1e-12)
    signal *= np.exp(0.1 * drift).astype(np.float32)[None, :]
    return signal.astype(np.float32, copy=False)
