"""Reading EEG recordings and the published file layouts of SEED, SEED-IV, SEED-V, SEED-VII, DEAP, FACED, DREAMER,
AMIGOS and MAHNOB-HCI.

- :func:`read_recording` / :func:`raw_to_array`: any file MNE reads, as a microvolt array in the model's montage.
- ``iter_seed_features``, ``iter_seed_raw``, ``iter_seed_iv``, ``iter_seed_v``, ``iter_seed_vii``, ``iter_deap``,
  ``iter_faced``, ``iter_faced_de``, ``iter_dreamer``, ``iter_amigos``, ``iter_mahnob``: :class:`Trial` objects from
  each dataset's download folder, streamed one file at a time.
- :func:`iter_trials`, :func:`label_names`, :func:`layout_channel_names`, :func:`count_files`,
  :func:`count_trials`: the same loaders by layout name (``"seed"``, ``"seed-raw"``, ``"seed-iv"``, ``"seed-v"``,
  ``"deap"``, ``"faced"``, ``"faced-de"``, ``"dreamer"``, ``"amigos"``, ``"mahnob-hci"``, ``"seed-vii"``, ...).
- :func:`fetch_physionet_sample`: a real EDF recording from PyPI, for tests and smoke runs.
"""

from .amigos import AMIGOS_CHANNEL_NAMES, iter_amigos
from .deap import DEAP_CHANNEL_NAMES, iter_deap
from .dreamer import DREAMER_CHANNEL_NAMES, iter_dreamer
from .faced import FACED_CHANNEL_NAMES, FACED_EMOTIONS, iter_faced, iter_faced_de
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
from .mahnob import MAHNOB_CHANNEL_NAMES, MAHNOB_EMOTION_CODES, iter_mahnob
from .reader import READERS, Recording, raw_to_array, read_recording
from .real import FetchError, fetch_physionet_sample
from .seed import SEED_LABEL_NAMES, iter_seed_features, iter_seed_raw
from .seed_iv import SEED_IV_LABEL_NAMES, SEED_IV_SESSION_LABELS, iter_seed_iv
from .seed_v import SEED_V_LABEL_NAMES, iter_seed_v
from .seed_vii import SEED_VII_LABEL_NAMES, iter_seed_vii
from .trial import Trial

__all__ = [
    "AMIGOS_CHANNEL_NAMES",
    "DEAP_CHANNEL_NAMES",
    "DREAMER_CHANNEL_NAMES",
    "FACED_CHANNEL_NAMES",
    "FACED_EMOTIONS",
    "LAYOUTS",
    "MAHNOB_CHANNEL_NAMES",
    "MAHNOB_EMOTION_CODES",
    "READERS",
    "SEED_IV_LABEL_NAMES",
    "SEED_IV_SESSION_LABELS",
    "SEED_LABEL_NAMES",
    "SEED_VII_LABEL_NAMES",
    "SEED_V_LABEL_NAMES",
    "FetchError",
    "Layout",
    "Recording",
    "Trial",
    "count_files",
    "count_trials",
    "fetch_physionet_sample",
    "get_layout",
    "iter_amigos",
    "iter_deap",
    "iter_dreamer",
    "iter_faced",
    "iter_faced_de",
    "iter_mahnob",
    "iter_seed_features",
    "iter_seed_iv",
    "iter_seed_raw",
    "iter_seed_v",
    "iter_seed_vii",
    "iter_trials",
    "label_names",
    "layout_channel_names",
    "raw_to_array",
    "read_recording",
]
