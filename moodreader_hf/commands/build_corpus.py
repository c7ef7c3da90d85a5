"""``moodreader build-corpus SOURCE [SOURCE...] OUTPUT``: EEG recordings of any format, montage and rate -> a
pre-training corpus of Parquet shards with a dataset card."""

from __future__ import annotations

import argparse
import itertools
import json

from ..builders.corpus import NOTCH_FREQUENCIES, RAW_LAYOUTS, SKIPPED_FILE, build_corpus, load_corpus_metadata
from ..recordings.reader import READERS
from ..recordings.vocabulary import POSITION_TOLERANCE_MM
from .options import add_quiet, command_parser, number

SHOWN_SKIPPED = 10
"""Skipped recordings listed in the summary (all are in skipped.jsonl)."""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``build-corpus`` subcommand."""
    parser = command_parser(
        subparsers, "build-corpus",
        help="build a pre-training corpus (raw-signal Parquet shards + card) from EEG recordings of any format",
        description=f"Walk the SOURCE folders recursively for {', '.join(READERS)} recordings (or read a labelled "
        "layout's raw recordings with --layout), map their channels to the electrode vocabulary, resample, filter "
        "and cut them into rows, and write Parquet shards with a dataset card to OUTPUT. Run the same command again "
        "to continue a killed build.",
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="folder (or file) of recordings")
    parser.add_argument("output", metavar="OUTPUT", help="the corpus folder to write (or to continue)")
    parser.add_argument("--layout", choices=RAW_LAYOUTS,
                        help="read each SOURCE as this labelled layout's raw recordings (labels ignored)")
    parser.add_argument("--subject-pattern", metavar="REGEX",
                        help="regex over a file's path relative to its SOURCE; its group 'subject' (or first group) "
                        "names the subject (BIDS sub-<label> first; default: the file's parent folder)")
    parser.add_argument("--sampling-rate", type=number(0.0, 50_000.0), default=200.0, metavar="HZ",
                        help="Hz of the rows (default 200)")
    parser.add_argument("--band-pass", type=float, nargs=2, metavar=("LOW", "HIGH"), default=(0.5, 75.0),
                        help="band-pass edges in Hz (default 0.5 75)")
    parser.add_argument("--no-band-pass", action="store_true", help="do not band-pass")
    parser.add_argument("--notch", type=float, choices=NOTCH_FREQUENCIES, metavar="{50,60}",
                        help="remove the mains frequency (50 or 60 Hz) and its harmonics")
    parser.add_argument("--window-seconds", type=number(0.0, 3600.0), default=1.0, metavar="SECONDS",
                        help="seconds per window (default 1)")
    parser.add_argument("--sequence-windows", type=int, default=10, metavar="N", help="windows per row (default 10)")
    parser.add_argument("--max-amplitude", type=float, default=500.0, metavar="MICROVOLTS",
                        help="drop rows with a sample beyond this after filtering (default 500)")
    parser.add_argument("--rename", metavar="FILE",
                        help="JSON object or two-column TSV/CSV mapping the files' channel names to electrodes")
    parser.add_argument("--position-tolerance-mm", type=float, default=POSITION_TOLERANCE_MM, metavar="MM",
                        help="largest distance of a match by electrode position, in mm on the standard head "
                        f"(default {POSITION_TOLERANCE_MM:g})")
    parser.add_argument("--shard-size-mb", type=float, default=64.0, metavar="MIB",
                        help="largest shard, uncompressed, in MiB (default 64)")
    parser.add_argument("--num-proc", type=int, default=1, metavar="N", help="recordings processed at once (default 1)")
    parser.add_argument("--dataset-id", metavar="NAME",
                        help="which dataset the recordings are, for provenance (default: the layout's dataset, or "
                        "the first SOURCE folder's name)")
    parser.add_argument("--simulated", action="store_true",
                        help="mark the corpus as simulated (automatic for folders written by 'moodreader simulate')")
    add_quiet(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Build the corpus, then summarise it with the skipped recordings and their reasons."""
    folder = build_corpus(
        args.sources,
        args.output,
        layout=args.layout,
        subject_pattern=args.subject_pattern,
        sampling_rate=args.sampling_rate,
        band_pass=None if args.no_band_pass else tuple(args.band_pass),
        notch=args.notch,
        window_seconds=args.window_seconds,
        sequence_windows=args.sequence_windows,
        max_amplitude_uv=args.max_amplitude,
        rename=args.rename,
        position_tolerance_mm=args.position_tolerance_mm,
        shard_size_mb=args.shard_size_mb,
        num_proc=args.num_proc,
        dataset_id=args.dataset_id,
        simulated=args.simulated,
        progress=not args.quiet,
    )
    metadata = load_corpus_metadata(folder)
    kind = "SIMULATED (not real EEG)" if metadata["simulated"] else "real"
    print(f"Built corpus {metadata['dataset_id']} ({kind}) in {folder}: {metadata['hours']:.2f} h of EEG in "
          f"{metadata['rows']} rows, {len(metadata['shards'])} shards, {metadata['files']} files of "
          f"{len(metadata['subjects'])} subjects, {len(metadata['montages'])} montages, rates "
          f"{', '.join(metadata['rates'])}; rows dropped: {json.dumps(metadata['rows_dropped'])}.")  # fmt: skip
    if metadata["skipped"]:
        print(f"Skipped {metadata['skipped']} recordings (all in {folder / SKIPPED_FILE}):")
        with (folder / SKIPPED_FILE).open(encoding="utf-8") as stream:
            for line in itertools.islice(stream, SHOWN_SKIPPED):
                record = json.loads(line)
                print(f"  {record['source']}: {record['reason']}")
    return 0
