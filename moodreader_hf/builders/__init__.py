"""From recordings to ``datasets.DatasetDict``s of DE window sequences, with a dataset card beside each."""

from .dataset import METADATA_FILE, build_dataset, dataset_features, export_parquet, load_built_dataset
from .windows import iter_sequences, sequence_starts

__all__ = [
    "METADATA_FILE",
    "build_dataset",
    "dataset_features",
    "export_parquet",
    "iter_sequences",
    "load_built_dataset",
    "sequence_starts",
]
