"""Fetch the real, freely licensed EEG recording that installs from PyPI and print what it holds.

    python scripts/fetch_real_recordings.py [--dest ~/.cache/moodreader_hf/real]

PhysioNet EEG Motor Movement/Imagery, subject 1 run 2 (eyes-closed baseline, 64 channels, 160 Hz, 61 s, EDF;
ODC-By 1.0, attribute PhysioNet), taken from the ``biosignalsnotebooks==0.6.14`` wheel and checked by SHA-256.
Not an emotion recording: it serves reader tests and real-signal smoke runs.
"""

import argparse
import sys
from pathlib import Path

from moodreader_hf.recordings import FetchError, fetch_physionet_sample, read_recording


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fetch_real_recordings.py", description=__doc__.splitlines()[0])
    default = Path.home() / ".cache" / "moodreader_hf" / "real"
    parser.add_argument("--dest", type=Path, default=default, help=f"folder to cache the file in (default {default})")
    args = parser.parse_args(argv)
    try:
        path = fetch_physionet_sample(args.dest)
    except FetchError as error:
        print(f"fetch_real_recordings.py: error: {error}", file=sys.stderr)
        return 1
    recording = read_recording(path, on_missing="mask")
    print(path)
    print(
        f"  {int(recording.present.sum())} of {len(recording.channel_names)} SEED electrodes present "
        f"(missing: {', '.join(recording.missing)}), {recording.data.shape[1] / recording.sfreq:.0f} s "
        f"resampled to {recording.sfreq:.0f} Hz"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
