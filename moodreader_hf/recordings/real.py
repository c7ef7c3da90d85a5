"""A real, freely licensed EEG recording that installs from PyPI, for reader tests and real-signal smoke runs.

PhysioNet EEG Motor Movement/Imagery, subject 1, run 2 (eyes-closed baseline): 64 channels (10-10, PhysioNet's
dotted names), 160 Hz, 61 s, EDF; licence ODC-By 1.0 (attribute PhysioNet: Schalk et al. 2004, Goldberger et al.
2000). It ships inside the ``biosignalsnotebooks==0.6.14`` wheel; :func:`fetch_physionet_sample` downloads that
wheel with ``pip download --no-deps``, extracts the one file and checks its SHA-256. Not an emotion recording.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PHYSIONET_SAMPLE_NAME = "S001R02.edf"
PHYSIONET_SAMPLE_SHA256 = "31a95e0a880e6c3d89960d9d62c144f24cc4e9f5d7e93c7f864ef61cd49e847e"
PHYSIONET_SAMPLE_PACKAGE = "biosignalsnotebooks==0.6.14"
PHYSIONET_SAMPLE_MEMBER = "biosignalsnotebooks/notebook_files/osf_files/signal_samples/S001R02.edf"


class FetchError(RuntimeError):
    """The sample recording could not be downloaded, or what was downloaded is not the expected file."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_physionet_sample(dest: str | Path) -> Path:
    """Return the path of ``S001R02.edf`` in the folder ``dest``, downloading it once (about 39 MB of wheel).

    A cached file is reused when its SHA-256 matches; the file is written under a temporary name and renamed, so an
    interrupted fetch never leaves a partial recording.

    Raises:
        FetchError: pip could not download the wheel, the wheel lacks the file, or its SHA-256 differs.
    """
    dest = Path(dest)
    target = dest / PHYSIONET_SAMPLE_NAME
    if target.is_file() and _sha256(target) == PHYSIONET_SAMPLE_SHA256:
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", scratch]
        result = subprocess.run([*command, PHYSIONET_SAMPLE_PACKAGE], capture_output=True, text=True)
        wheels = list(Path(scratch).glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            raise FetchError(f"pip download {PHYSIONET_SAMPLE_PACKAGE} failed: {result.stderr.strip()[-500:]}")
        partial = Path(scratch) / PHYSIONET_SAMPLE_NAME
        try:
            with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(PHYSIONET_SAMPLE_MEMBER) as member:
                partial.write_bytes(member.read())
        except (KeyError, zipfile.BadZipFile) as error:
            raise FetchError(f"{wheels[0].name}: no {PHYSIONET_SAMPLE_MEMBER} ({error})") from error
        digest = _sha256(partial)
        if digest != PHYSIONET_SAMPLE_SHA256:
            raise FetchError(f"{PHYSIONET_SAMPLE_MEMBER}: SHA-256 {digest}, expected {PHYSIONET_SAMPLE_SHA256}")
        partial.replace(target)
    return target
