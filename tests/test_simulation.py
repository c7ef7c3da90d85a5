"""The simulator of the default data: reproducible, read by the SEED loaders, planted effects and subject differences
visible with measurements independent of the package's DE code (Welch spectra)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.signal

from moodreader_hf.commands import simulate as simulate_command
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.features import differential_entropy, lds_smooth, moving_average
from moodreader_hf.recordings.layouts import iter_trials
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.validation import MoodReaderInputError

CLIP_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
SEED_V_ORDER = {
    1: (4, 1, 3, 2, 0, 4, 1, 3, 2, 0, 4, 1, 3, 2, 0),
    2: (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
    3: (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
}
LEFT_FRONTAL = ("Fp1", "AF3", "F7", "F5", "F3", "FC5", "FC3")
RIGHT_FRONTAL = ("Fp2", "AF4", "F8", "F6", "F4", "FC6", "FC4")
TEMPORAL = ("FT7", "T7", "TP7", "FT8", "T8", "TP8")


def _rows(names: tuple[str, ...]) -> list[int]:
    return [SEED_CHANNEL_NAMES.index(name) for name in names]


def _band_log_power(signal: np.ndarray, low: float, high: float) -> np.ndarray:
    """Natural-log band power per channel from a Welch spectrum (independent of the package's DE)."""
    freqs, density = scipy.signal.welch(signal, fs=200, nperseg=400, axis=-1)
    band = (freqs >= low) & (freqs < high)
    return np.log(density[:, band].sum(axis=1))


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("simulated")
    return simulate_seed(root, n_subjects=3, n_sessions=2, trial_seconds=12, seed=3, progress=False)


@pytest.fixture(scope="module")
def raw_trials(seed_root):
    return list(iter_trials("seed-raw", seed_root))


def _arrays(path: Path) -> dict[str, np.ndarray]:
    return {key: value for key, value in scipy.io.loadmat(path).items() if not key.startswith("__")}


def _all_arrays(root: Path) -> dict[str, dict[str, np.ndarray]]:
    return {str(path.relative_to(root)): _arrays(path) for path in sorted(root.rglob("*.mat"))}


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    options = dict(n_subjects=1, n_sessions=1, trial_seconds=4, progress=False)
    first = _all_arrays(simulate_seed(tmp_path / "a", seed=7, **options))
    again = _all_arrays(simulate_seed(tmp_path / "b", seed=7, **options))
    other = _all_arrays(simulate_seed(tmp_path / "c", seed=8, **options))
    assert first.keys() == again.keys() and len(first) == 4  # two session files, two label files
    for name, arrays in first.items():
        assert arrays.keys() == again[name].keys()
        for key, value in arrays.items():
            np.testing.assert_array_equal(value, again[name][key])
    assert first.keys() == other.keys()
    raw_name = next(name for name in first if name.startswith("Preprocessed_EEG") and "label" not in name)
    first_raw, other_raw = (next(iter(arrays[raw_name].values())) for arrays in (first, other))
    assert not np.allclose(first_raw[:, :100], other_raw[:, :100])


def test_a_subject_does_not_depend_on_how_many_are_simulated(tmp_path):
    options = dict(n_sessions=1, trial_seconds=4, seed=1, progress=False)
    alone = _all_arrays(simulate_seed(tmp_path / "one", n_subjects=1, **options))
    among = _all_arrays(simulate_seed(tmp_path / "two", n_subjects=2, **options))
    for name, arrays in alone.items():
        for key, value in arrays.items():
            np.testing.assert_array_equal(value, among[name][key])


def test_files_follow_the_seed_layout_and_say_simulated(seed_root):
    marker = (seed_root / "SIMULATED.txt").read_text()
    assert "NOT REAL EEG" in marker and "seed=3" in marker
    for folder in ("Preprocessed_EEG", "ExtractedFeatures"):
        label = scipy.io.loadmat(seed_root / folder / "label.mat")["label"]
        assert label.shape == (1, 15) and tuple(label[0].astype(int)) == CLIP_LABELS
        files = sorted(path.name for path in (seed_root / folder).glob("[0-9]*_*.mat"))
        assert len(files) == 6 and all(len(name.split("_")[1]) == len("yyyymmdd.mat") for name in files)
    features = _arrays(next((seed_root / "ExtractedFeatures").glob("1_*.mat")))
    assert "NOT REAL EEG" in str(features.pop("simulated"))
    assert sorted(features) == sorted([f"de_LDS{i}" for i in range(1, 16)] + [f"de_movingAve{i}" for i in range(1, 16)])
    raw = _arrays(next((seed_root / "Preprocessed_EEG").glob("1_*.mat")))
    assert "NOT REAL EEG" in str(raw.pop("simulated"))
    assert len(raw) == 15 and len({key.rsplit("_eeg", 1)[0] for key in raw}) == 1
    for trial in range(1, 16):
        signal = next(value for key, value in raw.items() if key.endswith(f"_eeg{trial}"))
        seconds = signal.shape[1] // 200
        assert signal.shape == (62, seconds * 200) and 10 <= seconds <= 12
        assert features[f"de_LDS{trial}"].shape == (62, seconds, 5)


def test_loaders_read_the_simulated_files_and_feature_files_match_the_signal(seed_root, raw_trials):
    de_trials = list(iter_trials("seed", seed_root))
    averaged = list(iter_trials("seed", seed_root, feature="de_movingAve"))
    assert len(de_trials) == len(raw_trials) == 3 * 2 * 15
    assert {(t.subject, t.session) for t in de_trials} == {(s, k) for s in "123" for k in "12"}
    for de_trial, average_trial, raw_trial in zip(de_trials, averaged, raw_trials):
        assert (de_trial.subject, de_trial.session, de_trial.trial) == (raw_trial.subject, raw_trial.session,
                                                                        raw_trial.trial)
        assert de_trial.label == raw_trial.label == CLIP_LABELS[de_trial.trial - 1] + 1
        assert raw_trial.sfreq == 200 and raw_trial.signal.shape == (62, de_trial.de.shape[0] * 200)
    first = raw_trials[0]
    de = differential_entropy(first.signal, 200)
    np.testing.assert_allclose(de_trials[0].de, lds_smooth(de), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(averaged[0].de, moving_average(de, 5), rtol=1e-5, atol=1e-5)


def test_amplitude_spectrum_and_alpha_are_plausible(raw_trials):
    rms = [np.sqrt(np.mean(trial.signal**2, axis=-1)) for trial in raw_trials]
    assert 5 < np.median(rms) < 100  # microvolts
    spectra = [scipy.signal.welch(trial.signal, fs=200, nperseg=400, axis=-1) for trial in raw_trials]
    freqs, density = spectra[0][0], np.stack([spectrum for _, spectrum in spectra])
    mean = density.mean(axis=(0, 1))
    assert mean[(freqs > 2) & (freqs < 4)].mean() > 5 * mean[(freqs > 30) & (freqs < 45)].mean()  # 1/f
    assert mean[freqs > 80].max() < 1e-6 * mean.max()  # band-limited to 75 Hz
    occipital, frontal = _rows(("O1", "Oz", "O2")), _rows(("Fp1", "Fpz", "Fp2"))
    alpha = (freqs >= 8) & (freqs < 13)
    beside = ((freqs >= 4) & (freqs < 6)) | ((freqs >= 16) & (freqs < 20))
    peak = density[..., alpha].mean(-1) / density[..., beside].mean(-1)  # (trials, channels)
    subjects = np.array([trial.subject for trial in raw_trials])
    occipital_over_frontal = [peak[subjects == s][:, occipital].mean() / peak[subjects == s][:, frontal].mean()
                              for s in "123"]  # fmt: skip
    assert np.mean(occipital_over_frontal) > 2, occipital_over_frontal
    correlation = np.corrcoef(raw_trials[0].signal)
    fp1, fpz, o2 = (SEED_CHANNEL_NAMES.index(name) for name in ("Fp1", "Fpz", "O2"))
    assert correlation[fp1, fpz] > 0.3 and correlation[fp1, fpz] > correlation[fp1, o2] + 0.2


def test_planted_effects_show_in_every_subject(raw_trials):
    """Documented: positive lowers left-frontal alpha, negative right-frontal alpha; positive raises temporal gamma."""
    for subject in "123":
        asymmetry = {0: [], 1: [], 2: []}
        gamma = {0: [], 1: [], 2: []}
        for trial in (t for t in raw_trials if t.subject == subject):
            alpha = _band_log_power(trial.signal, 8, 14)
            asymmetry[trial.label].append(alpha[_rows(RIGHT_FRONTAL)].mean() - alpha[_rows(LEFT_FRONTAL)].mean())
            gamma[trial.label].append(_band_log_power(trial.signal, 31, 50)[_rows(TEMPORAL)].mean())
        negative, neutral, positive = (np.mean(asymmetry[label]) for label in range(3))
        assert positive > neutral > negative, (subject, negative, neutral, positive)
        assert np.mean(gamma[2]) > np.mean(gamma[0]) and np.mean(gamma[2]) > np.mean(gamma[1])


def test_subjects_differ_more_than_trials_of_one_subject(raw_trials):
    neutral = [t for t in raw_trials if t.label == 1]
    features = {s: np.array([_band_log_power(t.signal, 8, 14) for t in neutral if t.subject == s]) for s in "123"}
    subject_means = np.stack([values.mean(axis=0) for values in features.values()])
    between = subject_means.var(axis=0).mean()
    within = np.mean([values.var(axis=0).mean() for values in features.values()])
    assert between > 3 * within, (between, within)


def test_seed_v_layout_has_five_classes_and_eye_features(tmp_path):
    root = simulate_seed(tmp_path, n_subjects=2, trial_seconds=16, layout="seed-v", seed=2, progress=False)
    assert sorted(p.name for p in (root / "EEG_DE_features").iterdir()) == ["1_123.npz", "2_123.npz"]
    assert sorted(p.name for p in (root / "Eye_movement_features").iterdir()) == ["1_123.npz", "2_123.npz"]
    trials = list(iter_trials("seed-v", root))
    assert len(trials) == 2 * 45
    for trial in trials:
        assert trial.label == SEED_V_ORDER[int(trial.session)][trial.trial - 1]
        assert trial.de.shape[1:] == (62, 5) and trial.eye.shape == (trial.de.shape[0], 33)
        assert 3 <= trial.de.shape[0] <= 4  # 4 s windows of 14-16 s trials
    for subject in "12":
        pupil = {label: np.mean([t.eye[:, :2].mean() for t in trials if t.subject == subject and t.label == label])
                 for label in range(5)}  # fmt: skip
        assert pupil[1] > pupil[3] > pupil[2]  # fear dilates, sad constricts, relative to neutral
    assert "NOT REAL EEG" in (root / "SIMULATED.txt").read_text()
    with np.load(root / "EEG_DE_features" / "1_123.npz") as archive:
        assert "NOT REAL EEG" in str(archive["simulated"])


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (dict(layout="deap"), "layout"),
        (dict(layout="seed-v", n_sessions=2), "n_sessions"),
        (dict(n_subjects=0), "n_subjects"),
        (dict(layout="seed-v", trial_seconds=3), "trial_seconds"),
    ],
)
def test_bad_options_name_the_field(tmp_path, options, field):
    with pytest.raises(MoodReaderInputError, match=f"'{field}'"):
        simulate_seed(tmp_path, progress=False, **options)


def test_command_says_simulated(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    simulate_command.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", str(tmp_path / "out"), "--subjects", "1", "--sessions", "1",
                              "--trial-seconds", "3", "--seed", "5", "--quiet"])  # fmt: skip
    assert args.func(args) == 0
    assert "SIMULATED" in capsys.readouterr().out
    assert len(list((tmp_path / "out" / "Preprocessed_EEG").glob("1_*.mat"))) == 1
    assert "seed=5" in (tmp_path / "out" / "SIMULATED.txt").read_text()
