"""From recordings to ``datasets.DatasetDict``s of DE window sequences and to pre-training corpora of raw-signal
Parquet shards, with a dataset card beside each."""

from .corpus import build_corpus, load_corpus_metadata
from .dataset import METADATA_FILE, build_dataset, dataset_features, export_parquet, load_built_dataset
from .windows import iter_sequences, sequence_starts

__all__ = [
    "METADATA_FILE",
    "build_corpus",
    "build_dataset",
    "dataset_features",
    "export_parquet",
    "iter_sequences",
    "load_built_dataset",
    "load_corpus_metadata",
    "sequence_starts",
]
