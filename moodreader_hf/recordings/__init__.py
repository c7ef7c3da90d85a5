"""Reading EEG recordings and the published file layouts of SEED, SEED-IV, SEED-V and DEAP.

- :func:`read_recording` / :func:`raw_to_array`: any file MNE reads, as a microvolt array in the model's montage.
- ``iter_seed_features``, ``iter_seed_raw``, ``iter_seed_iv``, ``iter_seed_v``, ``iter_deap``: :class:`Trial` objects
  from each dataset's download folder, streamed one file at a time.
- :func:`iter_trials`, :func:`label_names`, :func:`layout_channel_names`, :func:`count_files`,
  :func:`count_trials`: the same loaders by layout name (``"seed"``, ``"seed-raw"``, ``"seed-iv"``, ``"seed-v"``,
  ``"deap"``).
- :func:`fetch_physionet_sample`: a real EDF recording from PyPI, for tests and smoke runs.
"""

from .deap import DEAP_CHANNEL_NAMES, iter_deap
from .layouts import (
    LAYOUTS,
    Layout,
    count_files,
    count_trials,
    get_layout,
    iter_trials,
    label_names,
    layout_channel_names,
)
from .reader import READERS, Recording, raw_to_array, read_recording
from .real import FetchError, fetch_physionet_sample
from .seed import SEED_LABEL_NAMES, iter_seed_features, iter_seed_raw
from .seed_iv import SEED_IV_LABEL_NAMES, SEED_IV_SESSION_LABELS, iter_seed_iv
from .seed_v import SEED_V_LABEL_NAMES, iter_seed_v
from .trial import Trial

__all__ = [
    "DEAP_CHANNEL_NAMES",
    "LAYOUTS",
    "READERS",
    "SEED_IV_LABEL_NAMES",
    "SEED_IV_SESSION_LABELS",
    "SEED_LABEL_NAMES",
    "SEED_V_LABEL_NAMES",
    "FetchError",
    "Layout",
    "Recording",
    "Trial",
    "count_files",
    "count_trials",
    "fetch_physionet_sample",
    "get_layout",
    "iter_deap",
    "iter_seed_features",
    "iter_seed_iv",
    "iter_seed_raw",
    "iter_seed_v",
    "iter_trials",
    "label_names",
    "layout_channel_names",
    "raw_to_array",
    "read_recording",
]
