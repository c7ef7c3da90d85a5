"""Write tiny files in the published layouts of FACED, DREAMER, AMIGOS, MAHNOB-HCI and SEED-VII, for tests.

Folder and file names, variable and field names, array orientations and label codings follow each dataset's
distribution as public loaders and the datasets' documentation describe it (see the loaders' docstrings for what
could not be checked against real files); only the sizes are small. The writers use ``pickle``, ``scipy.io.savemat``,
a BioSemi BDF writer and an Office Open XML workbook writer of their own, never the loaders' code, and return what
they wrote in the file's own orientation. The channel lists and label codings below are typed from the datasets'
documentation, independently of the loaders' constants.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import scipy.io

FACED_ELECTRODES = (
    "Fp1", "Fp2", "Fz", "F3", "F4", "F7", "F8", "FC1", "FC2", "FC5", "FC6", "Cz", "C3", "C4", "T7", "T8",
    "CP1", "CP2", "CP5", "CP6", "Pz", "P3", "P4", "P7", "P8", "PO3", "PO4", "Oz", "O1", "O2", "A2", "A1",
)  # fmt: skip
"""FACED's 32 channels: 30 EEG electrodes, then the two mastoids."""
FACED_CATEGORY_OF_CLIP = [c for c, count in enumerate((3, 3, 3, 3, 4, 3, 3, 3, 3)) for _ in range(count)]
"""Clips 1..28 -> category 0 anger .. 8 tenderness (3 clips each, 4 neutral clips)."""
EMOTIV = ("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4")
BIOSEMI_32 = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip
MAHNOB_OTHER_CHANNELS = (
    "EXG1", "EXG2", "EXG3", "EXG4", "EXG5", "EXG6", "EXG7", "EXG8", "GSR1", "GSR2", "Erg1", "Erg2", "Resp", "Temp",
)  # fmt: skip
SEED_VII_EMOTIONS = ("Disgust", "Fear", "Sad", "Neutral", "Happy", "Anger", "Surprise")


def _pickle(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        pickle.dump(value, stream, protocol=4)


def write_faced(
    root: Path, subjects: tuple[int, ...] = (0, 1), seconds: int = 3, de_name: str = "sub{:03d}.pkl.pkl", seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """``Processed_data/subNNN.pkl`` (a pickled float array ``(28, 32, seconds * 250)``, microvolts) and
    ``EEG_Features/DE/subNNN.pkl.pkl`` (``(28, 32, seconds, 5)``). Returns ``{"subNNN": {"signal", "de"}}``."""
    rng = np.random.default_rng(seed)
    written = {}
    for subject in subjects:
        signal = rng.normal(scale=20.0, size=(28, 32, seconds * 250))
        de = rng.normal(size=(28, 32, seconds, 5))
        _pickle(root / "Processed_data" / f"sub{subject:03d}.pkl", signal)
        _pickle(root / "EEG_Features" / "DE" / de_name.format(subject), de)
        written[f"sub{subject:03d}"] = {"signal": signal, "de": de}
    return written


def _struct_array(records: list[dict[str, object]]) -> np.ndarray:
    """A ``(1, n)`` MATLAB struct array (a numpy record array of object fields) from dicts with the same keys."""
    array = np.empty((1, len(records)), dtype=[(key, object) for key in records[0]])
    for index, record in enumerate(records):
        for key, value in record.items():
            array[0, index][key] = value
    return array


def _cell_column(values: list[np.ndarray]) -> np.ndarray:
    cells = np.empty((len(values), 1), dtype=object)
    for index, value in enumerate(values):
        cells[index, 0] = value
    return cells


def write_dreamer(
    root: Path, subjects: int = 3, seconds: int = 3, seed: int = 0, electrodes: tuple[str, ...] = EMOTIV
) -> dict[str, list[np.ndarray]]:
    """``DREAMER.mat`` with the struct ``DREAMER`` (``Data`` ``(1, subjects)`` struct array of ``EEG.stimuli`` /
    ``EEG.baseline`` (18, 1) cells of ``(samples, 14)`` raw Emotiv values around 4200 µV, ``ECG``, ``Age``,
    ``Gender``, ``ScoreValence`` / ``ScoreArousal`` / ``ScoreDominance`` (18, 1) ratings 1-5;
    ``EEG_SamplingRate`` 128, ``EEG_Electrodes``, ...). Returns ``{"stimuli": [per subject: 18 arrays], "valence",
    "arousal", "dominance": [per subject: (18,) ratings]}``."""
    rng = np.random.default_rng(seed)
    written: dict[str, list] = {"stimuli": [], "valence": [], "arousal": [], "dominance": []}
    records = []
    for _ in range(subjects):
        stimuli = [4200.0 + rng.normal(scale=15.0, size=(int(rng.integers(seconds, seconds + 2)) * 128, 14))
                   for _ in range(18)]  # fmt: skip
        baseline = [4200.0 + rng.normal(scale=15.0, size=(61 * 128 // 8, 14)) for _ in range(18)]
        scores = {name: rng.integers(1, 6, size=(18, 1)).astype(np.float64) for name in ("valence", "arousal",
                                                                                         "dominance")}  # fmt: skip
        scores["valence"][:3, 0] = (3.0, 1.0, 5.0)
        eeg = {"baseline": _cell_column(baseline), "stimuli": _cell_column(stimuli)}
        ecg = {"baseline": _cell_column([np.zeros((4, 2))] * 18), "stimuli": _cell_column([np.zeros((4, 2))] * 18)}
        records.append({"Age": "22", "Gender": "male", "EEG": eeg, "ECG": ecg,
                        "ScoreValence": scores["valence"], "ScoreArousal": scores["arousal"],
                        "ScoreDominance": scores["dominance"]})  # fmt: skip
        written["stimuli"].append(stimuli)
        for name, values in scores.items():
            written[name].append(values[:, 0])
    names = np.empty((1, len(electrodes)), dtype=object)
    for index, name in enumerate(electrodes):
        names[0, index] = name
    dreamer = {"Data": _struct_array(records), "EEG_SamplingRate": 128.0, "ECG_SamplingRate": 256.0,
               "EEG_Electrodes": names, "noOfSubjects": float(subjects), "noOfVideoSequences": 18.0,
               "Disclaimer": "test file", "Provider": "tests", "Version": "1.0.2", "Acknowledgement": ""}  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(root / "DREAMER.mat", {"DREAMER": dreamer})
    return written


def _cell_row(values: list[np.ndarray]) -> np.ndarray:
    cells = np.empty((1, len(values)), dtype=object)
    for index, value in enumerate(values):
        cells[0, index] = value
    return cells


def write_amigos(
    root: Path, participants: dict[int, bool] | None = None, seconds: int = 3, seed: int = 0
) -> dict[str, dict[str, list[np.ndarray]]]:
    """``data_preprocessed/Data_Preprocessed_P<NN>.mat`` with ``joined_data`` (1, 20) cell of ``(samples, 17)``
    (14 EEG, 2 ECG, 1 GSR at 128 Hz) and ``labels_selfassessment`` (1, 20) cell of ``(1, 12)`` (arousal, valence,
    dominance, liking, familiarity, 7 emotions), plus ``labels_ext_annotation`` and ``VideoIDs``. ``participants``
    maps a participant number to whether they watched the long videos (if not, videos 17-20 are empty arrays).
    Returns ``{"P<NN>": {"joined_data": [...], "labels": [...]}}``."""
    rng = np.random.default_rng(seed)
    participants = participants if participants is not None else {1: True, 2: False}
    folder = root / "data_preprocessed"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for number, long_videos in participants.items():
        joined, labels = [], []
        for video in range(20):
            if video >= 16 and not long_videos:
                joined.append(np.zeros((0, 0)))
                labels.append(np.zeros((0, 0)))
                continue
            joined.append(rng.normal(scale=10.0, size=((seconds + video % 2) * 128, 17)))
            ratings = np.concatenate([rng.uniform(1.0, 9.0, size=5), rng.integers(0, 2, size=7)])
            labels.append(ratings[None, :])
        labels[0][0, :2] = (2.0, 5.0)  # arousal 2, valence exactly 5: low valence
        scipy.io.savemat(folder / f"Data_Preprocessed_P{number:02d}.mat", {
            "joined_data": _cell_row(joined), "labels_selfassessment": _cell_row(labels),
            "labels_ext_annotation": _cell_row([np.zeros((3, 3))] * 20),
            "VideoIDs": _cell_row([f"V{index}" for index in range(20)]),
        })  # fmt: skip
        written[f"P{number:02d}"] = {"joined_data": joined, "labels": labels}
    return written


def write_bdf(path: Path, labels: list[str], data: np.ndarray, sfreq: int, units: list[str],
              physical: list[tuple[float, float]]) -> np.ndarray:
    """A BioSemi 24-bit BDF file of ``data`` ``(channels, samples)`` in physical units (1 s records). Returns the
    physical values as stored (after 24-bit quantisation), ``(channels, samples)``."""
    channels, samples = data.shape
    if samples % sfreq:
        raise ValueError("whole seconds only")
    records = samples // sfreq
    low_digital, high_digital = -(2**23), 2**23 - 1
    stored = np.empty_like(data, dtype=np.float64)
    digital = np.empty(data.shape, dtype=np.int64)
    for index, (low, high) in enumerate(physical):
        gain = (high - low) / (high_digital - low_digital)
        digital[index] = np.clip(np.rint((data[index] - low) / gain + low_digital), low_digital, high_digital)
        stored[index] = (digital[index] - low_digital) * gain + low

    def field(value: object, width: int) -> bytes:
        return str(value).ljust(width)[:width].encode("ascii")

    header = b"\xffBIOSEMI" + field("X X X X", 80) + field("Startdate 17-JUL-2009 X X BioSemi", 80)
    header += field("17.07.09", 8) + field("14.26.09", 8) + field(256 * (channels + 1), 8) + field("24BIT", 44)
    header += field(records, 8) + field(1, 8) + field(channels, 4)
    columns = [
        [field(label, 16) for label in labels],
        [field("Active Electrode", 80)] * channels,
        [field(unit, 8) for unit in units],
        [field(f"{low:.8g}", 8) for low, _ in physical],
        [field(f"{high:.8g}", 8) for _, high in physical],
        [field(low_digital, 8)] * channels,
        [field(high_digital, 8)] * channels,
        [field("HP:DC; LP:417 Hz", 80)] * channels,
        [field(sfreq, 8)] * channels,
        [field("", 32)] * channels,
    ]
    header += b"".join(b"".join(column) for column in columns)
    ordered = digital.reshape(channels, records, sfreq).transpose(1, 0, 2).astype("<i4")  # record, channel, sample
    body = ordered.reshape(-1, 1).view(np.uint8)[:, :3].tobytes()  # little-endian: the low 3 bytes of each int32
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + body)
    return stored


def write_mahnob_session(
    root: Path, session: int, participant: int, trial: int, attributes: dict[str, str], rng: np.random.Generator,
    pre: int = 2, stimulus: int = 5, post: int = 2, sfreq: int = 256, bdf: bool = True, triggers: bool = True,
) -> dict[str, object]:
    """``Sessions/<session>/session.xml`` and ``Part_<p>_S_Trial<k>_emotion.bdf`` (47 channels: 32 EEG in µV with
    large CMS offsets and a common-mode signal, 14 other channels, Status with a trigger pulse at the stimulus start
    and one ending at its end unless ``triggers`` is false, plus BioSemi status flags in the upper bits). Returns
    ``{"eeg": (32, samples) µV as stored, "start", "stop": the stimulus samples}``."""
    folder = root / "Sessions" / str(session)
    folder.mkdir(parents=True, exist_ok=True)
    extra = " ".join(f'{key}="{escape(value)}"' for key, value in attributes.items())
    (folder / "session.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<session cutNr="{trial}" mediaFile="{trial}.avi" cutLenSec="{stimulus}.0" sessionId="{session}" '
        f'date="2009-07-17T14:26:09" {extra}>\n'
        f'  <subject id="{participant}" feltEmo="unused" />\n'
        '  <track type="Physiological" />\n'
        "</session>\n"
    )
    samples = (pre + stimulus + post) * sfreq
    common = 40.0 * np.sin(2 * np.pi * 50.0 * np.arange(samples) / sfreq)
    offsets = rng.uniform(-30000.0, 30000.0, size=(32, 1))
    eeg = offsets + common + rng.normal(scale=10.0, size=(32, samples))
    others = rng.normal(scale=5.0, size=(len(MAHNOB_OTHER_CHANNELS), samples))
    start, stop = pre * sfreq, (pre + stimulus) * sfreq
    status = np.full(samples, 1 << 20, dtype=np.float64)
    if triggers:
        status[start : start + 10] += 1
        status[stop - 10 : stop] += 2
    data = np.vstack([eeg, others, status[None]])
    labels = [*BIOSEMI_32, *MAHNOB_OTHER_CHANNELS, "Status"]
    units = ["uV"] * 46 + ["Boo"]
    physical = [(-262144.0, 262143.0)] * 46 + [(-(2.0**23), 2.0**23 - 1)]
    stored = data
    if bdf:
        stored = write_bdf(folder / f"Part_{participant}_S_Trial{trial}_emotion.bdf", labels, data, sfreq, units,
                           physical)
    return {"eeg": stored[:32], "start": start, "stop": stop}


def _xlsx_row(number: int, values: list[object], shared: list[str]) -> str:
    cells = []
    for column, value in enumerate(values):
        reference = f"{chr(ord('A') + column)}{number}"
        if isinstance(value, str):
            if value not in shared:
                shared.append(value)
            cells.append(f'<c r="{reference}" t="s"><v>{shared.index(value)}</v></c>')
        else:
            cells.append(f'<c r="{reference}"><v>{value}</v></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    """A minimal Office Open XML workbook (one worksheet, shared strings, as Excel writes them) of ``rows``
    (strings and numbers from column A on, at most 26 columns)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    shared: list[str] = []
    sheet_rows = "".join(_xlsx_row(number, values, shared) for number, values in enumerate(rows, start=1))
    strings = "".join(f"<si><t>{escape(text)}</t></si>" for text in shared)
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{relationships}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{relationships}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{relationships}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{sheet_rows}</sheetData>'
            "</worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(shared)}" '
            f'uniqueCount="{len(shared)}">{strings}</sst>'
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)


def seed_vii_label_rows(emotions: list[str]) -> list[list[object]]:
    """The rows of ``emotion_label_and_stimuli_order.xlsx``: per session a row ``Video index, 1..20`` then a row
    ``Emotion label, <emotion of each video>``."""
    rows: list[list[object]] = []
    for session in range(4):
        videos = list(range(session * 20 + 1, session * 20 + 21))
        rows.append(["Video index", *videos])
        rows.append(["Emotion label", *(emotions[video - 1] for video in videos)])
    return rows


def write_seed_vii(
    root: Path, subjects: tuple[str, ...] = ("1", "2"), with_eye: bool = True, seed: int = 0
) -> dict[str, object]:
    """``EEG_features/<subject>.mat`` (``de_LDS_1..80``, ``de_1..80``, ``psd_1..80``: ``(T, 5, 62)``),
    ``EYE_features/<subject>.mat`` (``1..80``: ``(T, 33)``; video 2's eye features have one window more than its
    EEG) and ``emotion_label_and_stimuli_order.xlsx``. Returns ``{"emotions": [80 names], subject: {key: array}}``."""
    rng = np.random.default_rng(seed)
    emotions = [SEED_VII_EMOTIONS[index % 7] for index in rng.permutation(80)]
    write_xlsx(root / "emotion_label_and_stimuli_order.xlsx", seed_vii_label_rows(emotions))
    written: dict[str, object] = {"emotions": emotions}
    for subject in subjects:
        eeg, eye = {}, {}
        for video in range(1, 81):
            windows = int(rng.integers(2, 5))
            for name in ("psd", "de", "de_LDS"):
                eeg[f"{name}_{video}"] = rng.normal(size=(windows, 5, 62))
            eye[str(video)] = rng.normal(size=(windows + (video == 2), 33))
        (root / "EEG_features").mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(root / "EEG_features" / f"{subject}.mat", eeg)
        if with_eye:
            (root / "EYE_features").mkdir(parents=True, exist_ok=True)
            scipy.io.savemat(root / "EYE_features" / f"{subject}.mat", eye)
        written[subject] = {**eeg, **{f"eye_{key}": value for key, value in eye.items()}}
    return written
