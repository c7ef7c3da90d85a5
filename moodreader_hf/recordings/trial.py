"""One trial of an emotion dataset, as every loader yields it and every builder reads it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Trial:
    """One trial (one film clip or video) of one subject in one session.

    Attributes:
        subject: Subject identifier as the dataset names it in its file names (``"1"`` ... ``"15"`` for SEED).
        session: Session identifier (``"1"``, ``"2"``, ``"3"``; SEED: ordered by recording date).
        trial: Trial number within the session, 1-based, in the dataset's order.
        label: Class index into the dataset's label names.
        de: DE features ``(time, channels, bands)`` float32, or ``None`` when only the raw signal was read.
        eye: Eye-movement features ``(time, eye_dims)`` float32, aligned with ``de``, or ``None``.
        signal: Raw signal ``(channels, samples)`` float32 in microvolts at ``sfreq``, or ``None``.
        sfreq: Sampling rate of ``signal`` in Hz, or ``None``.
        window_seconds: Length in seconds of one DE window.
        source: The file the trial was read from, for messages.
        channel_names: Electrode of each row of ``signal`` / of the channel axis of ``de`` when it differs from
            trial to trial (recordings of several montages); ``None``: the layout's ``channel_names``.
    """

    subject: str
    session: str
    trial: int
    label: int
    de: np.ndarray | None = None
    eye: np.ndarray | None = None
    signal: np.ndarray | None = None
    sfreq: float | None = None
    window_seconds: float = 1.0
    source: str = ""
    channel_names: tuple[str, ...] | None = None
