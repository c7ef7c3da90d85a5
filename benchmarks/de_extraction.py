"""Speed of DE extraction for one SEED-length trial, measured side by side in one run.

One trial: 62 channels, 200 Hz, 240 s, 1 s windows, 5 bands. Timed: our ``stft`` and ``filterbank`` methods, a
reference written the common way (for each window, for each channel, for each band: Butterworth design, ``lfilter``,
variance; timed on the first windows and extrapolated to the whole trial) and a bare ``numpy.fft.rfft`` of the whole
trial (the floor). Targets: ``stft`` at least 300x faster than the common way and within 3x of the floor.

Run: ``python benchmarks/de_extraction.py [--reference-windows 12] [--repeats 20]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.signal import butter, lfilter

from moodreader_hf.configuration_moodreader import BAND_EDGES
from moodreader_hf.features import differential_entropy

CHANNELS, SFREQ, SECONDS, WINDOW_SECONDS = 62, 200, 240, 1.0


def common_way(signals: np.ndarray, sfreq: float, window_seconds: float, windows: int) -> np.ndarray:
    """DE of the first ``windows`` windows, one window, channel and band at a time: ``(windows, channels, bands)``."""
    window = round(sfreq * window_seconds)
    de = np.empty((windows, signals.shape[0], len(BAND_EDGES)))
    for w in range(windows):
        for c in range(signals.shape[0]):
            segment = signals[c, w * window : (w + 1) * window]
            for b, (low, high) in enumerate(BAND_EDGES):
                numerator, denominator = butter(4, [low, high], btype="bandpass", fs=sfreq)
                de[w, c, b] = 0.5 * np.log(2 * np.pi * np.e * np.var(lfilter(numerator, denominator, segment)))
    return de


def best_times(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Fastest of ``repeats`` runs of each function, in seconds, after one warm-up run; the runs are interleaved so
    that a busy machine slows every method alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        function()
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference-windows", type=int, default=12, help="windows of the common way actually timed")
    parser.add_argument("--repeats", type=int, default=20, help="runs of each fast method (the best is kept)")
    args = parser.parse_args()
    signals = np.random.default_rng(0).normal(0.0, 20.0, (CHANNELS, SFREQ * SECONDS))
    windows = int(SECONDS / WINDOW_SECONDS)

    fast = best_times({
        "stft": lambda: differential_entropy(signals, SFREQ, WINDOW_SECONDS, method="stft"),
        "floor": lambda: np.fft.rfft(signals, axis=-1),
    }, args.repeats)
    stft, floor = fast["stft"], fast["floor"]
    filterbank = best_times({"filterbank": lambda: differential_entropy(signals, SFREQ, WINDOW_SECONDS,
                                                                       method="filterbank")},
                            max(1, args.repeats // 5))["filterbank"]
    subset = min(args.reference_windows, windows)
    start = time.perf_counter()
    common_way(signals, SFREQ, WINDOW_SECONDS, subset)
    reference = (time.perf_counter() - start) * windows / subset

    print(f"One trial: {CHANNELS} channels x {SECONDS} s at {SFREQ} Hz, {WINDOW_SECONDS:g} s windows, "
          f"{len(BAND_EDGES)} bands")
    print(f"  stft (ours)                 {stft * 1e3:10.2f} ms")
    print(f"  filterbank (ours)           {filterbank * 1e3:10.2f} ms")
    print(f"  common way (loops, lfilter) {reference * 1e3:10.2f} ms  (timed on {subset} of {windows} windows, "
          f"extrapolated x{windows / subset:g})")
    print(f"  numpy.fft.rfft of the trial {floor * 1e3:10.2f} ms  (floor)")
    speedup, over_floor = reference / stft, stft / floor
    print(f"stft vs common way: {speedup:8.0f}x faster   target >= 300x: {'met' if speedup >= 300 else 'MISSED'}")
    print(f"stft vs rfft floor: {over_floor:8.2f}x slower   target <= 3x:   {'met' if over_floor <= 3 else 'MISSED'}")
    print(f"filterbank vs common way: {reference / filterbank:.0f}x faster")


if __name__ == "__main__":
    main()
