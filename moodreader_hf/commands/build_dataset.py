"""``moodreader build-dataset LAYOUT ROOT OUTPUT_DIR``: recordings in a published layout to a DatasetDict on disk."""

from __future__ import annotations

import argparse

from ..atomic import check_replaceable
from ..builders import build_dataset, export_parquet, load_built_dataset
from ..builders.dataset import DATASET_KIND, PARQUET_KIND
from ..feature_extraction_moodreader import SMOOTHINGS
from ..recordings.layouts import LAYOUTS
from ..validation import fail
from .options import add_quiet, command_parser, number, whole_number

MAX_WINDOW_SECONDS = 60.0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``build-dataset`` subcommand."""
    parser = command_parser(
        subparsers,
        "build-dataset",
        help="build a datasets.DatasetDict of DE window sequences (with a dataset card)",
        description="Read a dataset in its published layout and write a DatasetDict (one split 'train' with every "
        "subject; evaluation splits by the 'subject' column) of fixed-length DE window sequences, with a dataset "
        "card. Layouts: " + "; ".join(f"{name}: {layout.description}" for name, layout in LAYOUTS.items()),
    )
    parser.add_argument("layout", choices=tuple(LAYOUTS), help="published file layout of ROOT")
    parser.add_argument("root", help="the dataset's download folder (or a folder from 'moodreader simulate')")
    parser.add_argument("output_dir", help="folder of the built dataset (new, empty, or an older build, which is "
                        "replaced; a folder holding anything else is refused)")
    parser.add_argument("--sequence-windows", type=whole_number(1), default=10, metavar="N",
                        help="DE windows per row (default 10)")
    parser.add_argument("--stride", type=whole_number(1), default=10, metavar="N",
                        help="windows between row starts (default 10)")
    parser.add_argument("--include-signal", action="store_true", help="also store the raw signal (raw layouts)")
    parser.add_argument("--smoothing", choices=SMOOTHINGS, default="lds",
                        help="smoothing of computed DE per trial (raw layouts; default lds, the forward Kalman filter "
                        "of the common SEED port; lds_rts adds the backward pass; moving averages keep changes "
                        "within a row)")
    parser.add_argument("--feature", choices=("de_LDS", "de_movingAve"), default="de_LDS",
                        help="which distributed DE to read (SEED, SEED-IV; default de_LDS)")
    parser.add_argument("--method", choices=("stft", "filterbank"), default="stft",
                        help="DE method for raw layouts (default stft, the SEED recipe)")
    parser.add_argument("--window-seconds", type=number(0.0, MAX_WINDOW_SECONDS), default=1.0, metavar="SECONDS",
                        help=f"DE window for raw layouts (default 1, at most {MAX_WINDOW_SECONDS:g})")
    parser.add_argument("--target", choices=("valence", "arousal", "dominance", "liking"),
                        help="DEAP: the rating thresholded into labels (default valence)")
    parser.add_argument("--simulated", action="store_true",
                        help="mark the dataset as simulated (automatic for folders written by 'moodreader simulate')")
    parser.add_argument("--parquet", metavar="DIR", help="also export the dataset as Parquet files to DIR")
    add_quiet(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Build (and optionally export) the dataset, then summarise it."""
    check_replaceable(args.output_dir, DATASET_KIND, field="output_dir")
    if args.parquet:
        check_replaceable(args.parquet, PARQUET_KIND, field="--parquet")
        if args.parquet == args.output_dir:
            fail(args.parquet, "--parquet", "a folder other than OUTPUT_DIR", "the same folder")
    path = build_dataset(
        args.layout,
        args.root,
        args.output_dir,
        sequence_windows=args.sequence_windows,
        stride=args.stride,
        include_signal=args.include_signal,
        smoothing=args.smoothing,
        feature=args.feature,
        method=args.method,
        window_seconds=args.window_seconds,
        layout_options={"target": args.target} if args.target else None,
        simulated=args.simulated,
        progress=not args.quiet,
    )
    dataset, metadata = load_built_dataset(path)
    kind = "SIMULATED (not real EEG)" if metadata["simulated"] else "real"
    print(f"Built {metadata['num_rows']} rows from {len(metadata['subjects'])} subjects ({kind} {args.layout} data, "
          f"columns {', '.join(dataset['train'].column_names)}) in {path}.")
    if args.parquet:
        print(f"Exported Parquet to {export_parquet(path, args.parquet)}.")
    return 0
