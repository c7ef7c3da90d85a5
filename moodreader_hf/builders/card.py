"""The dataset card (``README.md``: YAML metadata + text) written beside every built dataset."""

from __future__ import annotations

from pathlib import Path

from datasets import DatasetInfo, Features, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from ..provenance import SIMULATION_MARKER
"""File the simulator writes at the top of its output; a dataset built from such a folder is marked simulated."""

_SOURCES: dict[str, tuple[str, str, str]] = {
    "seed": ("SEED", "https://bcmi.sjtu.edu.cn/home/seed/seed.html", "seed-license"),
    "seed-raw": ("SEED", "https://bcmi.sjtu.edu.cn/home/seed/seed.html", "seed-license"),
    "seed-iv": ("SEED-IV", "https://bcmi.sjtu.edu.cn/home/seed/seed-iv.html", "seed-iv-license"),
    "seed-v": ("SEED-V", "https://bcmi.sjtu.edu.cn/home/seed/seed-v.html", "seed-v-license"),
    "deap": ("DEAP", "https://www.eecs.qmul.ac.uk/mmv/datasets/deap/", "deap-eula"),
    "faced": ("FACED", "https://www.synapse.org/Synapse:syn50614194", "cc-by-4.0"),
    "faced-de": ("FACED", "https://www.synapse.org/Synapse:syn50614194", "cc-by-4.0"),
    "dreamer": ("DREAMER", "https://zenodo.org/record/546113", "dreamer-eula"),
    "amigos": ("AMIGOS", "https://www.eecs.qmul.ac.uk/mmv/datasets/amigos/", "amigos-eula"),
    "mahnob-hci": ("MAHNOB-HCI", "https://mahnob-db.eu/hci-tagging/", "mahnob-hci-eula"),
    "seed-vii": ("SEED-VII", "https://bcmi.sjtu.edu.cn/home/seed/seed-vii.html", "seed-vii-license"),
}
_OPEN_LICENCES = ("cc-by-4.0",)
"""Licences of ``_SOURCES`` that are Hub licence identifiers (the others are a dataset's own agreement)."""
_CITATIONS: dict[str, str] = {
    "FACED": "J. Chen, X. Wang, C. Huang, X. Hu, X. Shen, D. Zhang. A Large Finer-grained Affective Computing EEG "
    "Dataset. Scientific Data 10, 740 (2023). doi:10.1038/s41597-023-02650-w",
    "DREAMER": "S. Katsigiannis, N. Ramzan. DREAMER: A Database for Emotion Recognition Through EEG and ECG Signals "
    "From Wireless Low-cost Off-the-Shelf Devices. IEEE Journal of Biomedical and Health Informatics 22(1), 98-107 "
    "(2018). doi:10.1109/JBHI.2017.2688239",
    "AMIGOS": "J. A. Miranda-Correa, M. K. Abadi, N. Sebe, I. Patras. AMIGOS: A Dataset for Affect, Personality and "
    "Mood Research on Individuals and Groups. IEEE Transactions on Affective Computing 12(2), 479-493 (2021). "
    "doi:10.1109/TAFFC.2018.2884461",
    "MAHNOB-HCI": "M. Soleymani, J. Lichtenauer, T. Pun, M. Pantic. A Multimodal Database for Affect Recognition and "
    "Implicit Tagging. IEEE Transactions on Affective Computing 3(1), 42-55 (2012). doi:10.1109/T-AFFC.2011.25",
    "SEED-VII": "W.-B. Jiang, X.-H. Liu, W.-L. Zheng, B.-L. Lu. SEED-VII: A Multimodal Dataset of Six Basic Emotions "
    "With Continuous Labels for Emotion Recognition. IEEE Transactions on Affective Computing 16(2), 969-985 (2025)",
}
"""Dataset name -> the reference its authors ask users to cite."""
_UNVERIFIED: dict[str, str] = {
    "faced": "file layout, shapes, clip and channel order from TorchEEG and the dataset paper; the processed signal "
    "is assumed to be in microvolts",
    "faced-de": "file layout, shapes, clip and channel order from TorchEEG and the dataset paper; the band edges and "
    "any smoothing of the released DE",
    "dreamer": "the struct layout from public loaders (TorchEEG); the samples are taken as microvolts",
    "amigos": "variable names, shapes, column and rating order from TorchEEG; whether the trials start with a "
    "baseline; the signal is assumed to be in microvolts",
    "mahnob-hci": "folder and file names, channel labels, the Status trigger convention and the session.xml "
    "attributes from TorchEEG and bob.db.hci_tagging; the feltEmo codes from the database's documentation as quoted "
    "by its users",
    "seed-vii": "the rows of the label workbook and the alignment of the eye features from public loaders; the "
    "feature files from the authors' extraction code (DE over 4 s windows, gamma 31-49 Hz, log2(100 * power))",
}
"""Layout -> what of its published structure could not be checked against a downloaded copy."""

_OWN_RECORDINGS = ("events", "bids")
"""Layouts of a user's own recordings (a label table, a BIDS dataset): no published source or licence to name."""


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def card_data(metadata: dict[str, object], features: Features, *, parquet: bool = False) -> DatasetCardData:
    """YAML metadata of the card: licence, task, tags, ``dataset_info`` (features, split size) and a ``moodreader``
    block with what inference needs to reproduce the features."""
    name, link, license_name = _SOURCES.get(str(metadata["layout"]), (str(metadata["layout"]), "", "other"))
    simulated = bool(metadata["simulated"])
    licence = {"license": "apache-2.0"} if simulated else {"license": "other", "license_name": license_name,
                                                           "license_link": link}  # fmt: skip
    if license_name in _OPEN_LICENCES and not simulated:
        licence = {"license": license_name}
    if metadata["layout"] in _OWN_RECORDINGS and not simulated:
        name, licence = str(metadata.get("dataset_id") or name), {"license": "unknown"}
    extra: dict[str, object] = {}
    if parquet:
        extra["configs"] = [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
    data = DatasetCardData(
        pretty_name=f"{'Simulated ' if simulated else ''}{name} DE window sequences (moodreader)",
        task_categories=["tabular-classification"],
        tags=["eeg", "emotion-recognition", "differential-entropy", *(["simulated", "synthetic"] if simulated else [])],
        size_categories=[_size_category(int(metadata["num_rows"]))],
        **licence,
        **extra,
        moodreader={
            key: metadata[key]
            for key in (
                "layout", "channel_names", "band_names", "band_edges", "window_seconds", "sampling_rate",
                "sequence_windows", "stride", "smoothing", "method", "de_source", "simulated",
            )  # fmt: skip
        },
    )
    splits = SplitDict()
    rows, size = int(metadata["num_rows"]), int(metadata.get("num_bytes", 0))
    splits.add(SplitInfo(name="train", num_bytes=size, num_examples=rows))
    DatasetInfosDict({"default": DatasetInfo(features=features, splits=splits)}).to_dataset_card_data(data)
    return data


def _within_row_lines(metadata: dict[str, object]) -> list[str]:
    share = metadata.get("within_row_variance_share")
    if share is None:
        return []
    lines = [f"Within-row variance: {share:.2e} of the DE's total variance lies within rows (the rest between "
             "rows)."]
    if share < float(metadata.get("within_row_variance_threshold", 0.0)):
        lines.append(f"**Warning: below {metadata['within_row_variance_threshold']:g}: smoothing has made the rows "
                     "nearly constant in time, so a model that attends across windows (the Mood Reader's temporal "
                     "attention) learns nothing from their order. Prefer `moving_average` or `none` smoothing.**")
    return [" ".join(lines), ""]


def _coverage_lines(metadata: dict[str, object]) -> list[str]:
    """What of the labelled signal is in rows (tail rows included, for datasets that have them) and what was
    dropped."""
    coverage = metadata.get("coverage")
    lines = []
    if isinstance(coverage, dict) and coverage.get("labelled"):
        in_no_row = ("windows between rows (the stride exceeds a row)" if metadata.get("tail_rows")
                     else "windows in no row (after a trial's last row, or between rows)")
        dropped = {"window_tails": "after the last whole window of a trial", "between_rows": in_no_row,
                   "short_trials": "trials shorter than one row"}  # fmt: skip
        parts = [f"{coverage[key]:g} s {what}" for key, what in dropped.items() if coverage.get(key)]
        lines += [f"Coverage: {coverage['in_rows']:g} s of the {coverage['labelled']:g} s of labelled signal "
                  f"({100 * coverage['share_in_rows']:.1f} %) are in rows"
                  + (f"; dropped: {'; '.join(parts)}." if parts else "; nothing was dropped."), ""]
    return lines


def _notes_lines(metadata: dict[str, object]) -> list[str]:
    """The notes of the build: how labels, subjects and channels were read from the files."""
    notes = metadata.get("notes") or []
    return ["## How the files were read", "", *[f"- {note}" for note in notes], ""] if notes else []


def _rows_sentence(metadata: dict[str, object]) -> str:
    """How trials are cut into rows: with tail rows (``tail_rows`` in the metadata) or, for datasets built before
    them, with the trailing windows dropped."""
    windows, stride, seconds = metadata["sequence_windows"], metadata["stride"], metadata["window_seconds"]
    skipped = f"({metadata.get('skipped_trials', 0)} trials shorter than one row were skipped)"
    if not metadata.get("tail_rows"):
        return (f"One row is {windows} consecutive DE windows of {seconds:g} s from one trial; rows of a trial start "
                f"every {stride} windows and trailing windows that do not fill a row are dropped {skipped}.")
    overlap = ("overlapping the row before it" if int(stride) <= int(windows) else
               f"overlapping the row before it when fewer than {windows} windows trail that row; the "
               f"{int(stride) - int(windows)} windows between consecutive regular rows are in no row")
    return (f"One row is {windows} consecutive DE windows of {seconds:g} s from one trial; rows of a trial start "
            f"every {stride} windows, and when they do not reach a trial's last window one more row, the tail row "
            f"(`tail` true), holds its last {windows} windows, {overlap} {skipped}. Tail rows are for testing only "
            "(`moodreader finetune` never trains, validates or normalises on them): they let every trailing window "
            "be scored.")


def card_text(metadata: dict[str, object], *, parquet: bool = False) -> str:
    """The card's body: what the data is (saying plainly when it is simulated), its columns and how to load it."""
    layout = str(metadata["layout"])
    name, link, license_name = _SOURCES.get(layout, (layout, "", ""))
    if layout in _OWN_RECORDINGS:
        name = str(metadata.get("dataset_id") or layout)
    simulated = bool(metadata["simulated"])
    windows = metadata["sequence_windows"]
    lines = [f"# {'Simulated ' if simulated else ''}{name}: DE window sequences for emotion recognition", ""]
    if simulated:
        lines += [
            "> **Simulated data: this is not real EEG.** Every signal was generated by `moodreader simulate` "
            "(`moodreader_hf.simulation`): a 1/f background, an occipital alpha rhythm and per-emotion band-power "
            "changes planted on known electrodes (`moodreader_hf.simulation.effects.PLANTED_EFFECTS`), with "
            f"per-subject differences, written in the {name} file layout. Accuracy on it says nothing about real "
            "emotion recognition; it exists so that the whole pipeline runs without a licensed dataset.",
            "",
        ]
    elif layout in _OWN_RECORDINGS:
        lines += [
            f"Built from {'a BIDS dataset' if layout == 'bids' else 'recordings and a label table'} with "
            f"`moodreader build-dataset {layout}`: montage, rate and "
            "classes are the recordings' own. The recordings' owner decides their licence and what consent allows: "
            "share this dataset only as they permit.",
            "",
        ]
    elif license_name in _OPEN_LICENCES:
        lines += [
            f"Built from a local copy of [{name}]({link}) with `moodreader build-dataset {layout}`. {name} is "
            f"distributed under {license_name.upper().replace('-', ' ')}: share this dataset with credit to its "
            "authors.",
            "",
        ]
    else:
        lines += [
            f"Built from a local copy of [{name}]({link}) with `moodreader build-dataset {layout}`. {name} is "
            "distributed under its own licence agreement: this dataset may be shared only as that agreement allows.",
            "",
        ]
    if name in _CITATIONS:
        lines += [f"Cite: {_CITATIONS[name]}.", ""]
    if layout in _UNVERIFIED and not simulated:
        lines += [f"The loader follows {name}'s published structure; not checked against a downloaded copy when it "
                  f"was written: {_UNVERIFIED[layout]}.", ""]
    de_origin = (
        f"computed from the signal ({metadata['method']}, {metadata['smoothing']} smoothing per trial)"
        if metadata.get("de_source") == "computed"
        else f"as distributed ({metadata['smoothing']})"
    )
    bands = ", ".join(f"{band} ({low:g}-{high:g} Hz)" for band, (low, high) in zip(metadata["band_names"],
                                                                                  metadata["band_edges"]))
    lines += [
        "## Rows and columns",
        "",
        f"{_rows_sentence(metadata)} DE is {de_origin}.",
        "",
        *_coverage_lines(metadata),
        *_within_row_lines(metadata),
        "- `subject`, `session`, `trial` (1-based), `start` (first window, 0-based)"
        + (", `tail` (the trial's tail row, test-only)" if metadata.get("tail_rows") else ""),
        f"- `de`: `(time={windows}, channels={len(metadata['channel_names'])}, bands={len(metadata['band_names'])})` "
        f"float32, bands {bands}",
        f"- montage: {len(metadata['channel_names'])} electrodes ({', '.join(metadata['channel_names'])}); rate "
        f"{metadata['sampling_rate']} Hz",
        "- `channel_mask`: 1 where the electrode was recorded, 0 where it is missing (its values are 0)",
    ]
    if metadata["eye_dims"]:
        lines.append(f"- `eye`: `(time, {metadata['eye_dims']})` eye-movement features per window")
    if metadata["include_signal"]:
        lines.append(f"- `signal`: `(channels, samples)` in microvolts at {metadata['sampling_rate']} Hz")
    lines += [
        f"- `label`: {', '.join(f'{index} = {label}' for index, label in enumerate(metadata['label_names']))}",
        "",
        *_notes_lines(metadata),
        "## Evaluation protocol",
        "",
        "There is one split, `train`, holding every subject. `moodreader finetune --protocol` splits it by the "
        "`subject`, `session` and `trial` columns under a named protocol (`loso`, `loso-session`, `cross-session`, "
        "`within-trials`, `seed-v-3fold`, `kfold-subject`, `given-split`; the README defines each); no test subject "
        "(or, within a subject, test trial) reaches training, validation or normalisation.",
        "",
        "## Loading",
        "",
        "```python",
    ]
    if parquet:
        lines += ['from datasets import load_dataset', 'dataset = load_dataset("parquet", data_dir="data")["train"]']
    else:
        lines += [
            "from moodreader_hf.builders import load_built_dataset",
            'dataset_dict, metadata = load_built_dataset("path/to/this/folder")',
        ]
    lines += ["```", ""]
    return "\n".join(lines)


def write_dataset_card(
    path: Path, metadata: dict[str, object], features: Features, *, parquet: bool = False
) -> DatasetCard:
    """Write the card to ``path`` (``README.md``) and return it."""
    card = DatasetCard(f"---\n{card_data(metadata, features, parquet=parquet).to_yaml()}\n---\n\n"
                       f"{card_text(metadata, parquet=parquet)}")  # fmt: skip
    path.write_text(str(card))
    return card
