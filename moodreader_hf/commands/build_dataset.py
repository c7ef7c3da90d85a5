"""``moodreader build-dataset LAYOUT ROOT OUTPUT_DIR``: recordings in a published layout, your own recordings with a
label table, or a BIDS dataset, to a DatasetDict on disk."""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path

from ..atomic import check_replaceable
from ..builders import build_dataset, export_parquet, load_built_dataset
from ..builders.dataset import DATASET_KIND, PARQUET_KIND
from ..feature_extraction_moodreader import SMOOTHINGS
from ..features import parse_bands
from ..recordings.layouts import LAYOUTS, get_layout
from ..recordings.reader import MAX_SAMPLING_RATE
from ..validation import fail, reading
from .options import add_quiet, command_parser, number, whole_number

MAX_WINDOW_SECONDS = 60.0
LOADER_KEYWORDS: dict[str, str] = {
    "labels": "labels", "classes": "classes", "task": "task", "label_column": "label_column", "label_map": "label_map",
    "event_duration": "duration", "rename": "rename", "target": "target", "threshold": "threshold",
    "videos": "videos", "reference": "reference",
}  # fmt: skip
"""Command-line option (its ``args`` name) -> the keyword of the layout loaders it sets; an option belongs to the
layouts whose loader takes that keyword."""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``build-dataset`` subcommand."""
    parser = command_parser(
        subparsers,
        "build-dataset",
        help="build a datasets.DatasetDict of DE window sequences (with a dataset card)",
        description="Read a dataset in its published layout, your own recordings with a label table, or a BIDS "
        "dataset, and write a DatasetDict (one split 'train' with every subject; evaluation splits by the 'subject' "
        "column) of fixed-length DE window sequences, with a dataset card. Layouts: "
        + "; ".join(f"{name}: {layout.description}" for name, layout in LAYOUTS.items()),
    )
    parser.add_argument("layout", choices=tuple(LAYOUTS), help="file layout of ROOT")
    parser.add_argument("root", help="the dataset's download folder, a folder from 'moodreader simulate', your "
                        "recordings' folder (events) or a BIDS dataset (bids)")
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
    parser.add_argument("--feature", choices=("de_LDS", "de_movingAve", "de"), default="de_LDS",
                        help="which distributed DE to read (SEED, SEED-IV: de_LDS or de_movingAve; SEED-VII: de_LDS "
                        "or de, unsmoothed; default de_LDS)")
    parser.add_argument("--method", choices=("stft", "filterbank"), default="stft",
                        help="DE method for raw layouts (default stft, the SEED recipe)")
    parser.add_argument("--window-seconds", type=number(0.0, MAX_WINDOW_SECONDS), default=1.0, metavar="SECONDS",
                        help=f"DE window for raw layouts (default 1, at most {MAX_WINDOW_SECONDS:g}); samples after a "
                        "trial's last whole window are dropped and counted in the card")
    parser.add_argument("--sampling-rate", type=whole_number(1, int(MAX_SAMPLING_RATE)), metavar="HZ",
                        help="raw layouts: resample to this rate (default: the recordings' own, the lowest when "
                        "they differ)")
    parser.add_argument("--bands", metavar="NAME:LOW-HIGH,...",
                        help="raw layouts: DE bands in Hz, in order (default delta:1-4,theta:4-8,alpha:8-14,"
                        "beta:14-31,gamma:31-50; e.g. slow:0.1-1,delta:1-4 with --window-seconds 10)")
    parser.add_argument("--target", help="what the labels are, for layouts that offer a choice (deap: the rating "
                        "thresholded into labels, valence, arousal, dominance or liking; default valence)")
    parser.add_argument("--threshold", type=number(0.0), metavar="RATING",
                        help="rating layouts (deap, dreamer, amigos, mahnob-hci): ratings above it are 'high' "
                        "(default: the layout's scale midpoint)")
    parser.add_argument("--videos", choices=("short", "long", "all"),
                        help="amigos: the short videos (default), the long ones (session 2) or all")
    parser.add_argument("--reference", choices=("average", "none"),
                        help="mahnob-hci: re-reference the EEG to the average (default) or keep the recorded one")
    parser.add_argument("--labels", metavar="TABLE",
                        help="events: the label table (.csv or .tsv): file, onset, duration, label and optionally "
                        "subject, session, trial (seconds; files relative to ROOT)")
    parser.add_argument("--classes", metavar="NAME,...",
                        help="events: the class names in order (a label outside them is refused; default: the "
                        "table's labels)")
    parser.add_argument("--task", help="bids: the BIDS task label (task-<label> in the file names)")
    parser.add_argument("--label-column", default=None, metavar="COLUMN",
                        help="bids: the events.tsv column holding the labels (default trial_type)")
    parser.add_argument("--label-map", metavar="VALUE=NAME,...|FILE.json",
                        help="bids: event values -> class names; only the events it names are used")
    parser.add_argument("--event-duration", type=number(0.0), metavar="SECONDS",
                        help="bids: the span of events whose duration is n/a or 0")
    parser.add_argument("--rename", metavar="MAP",
                        help="events, bids: channel rename map (JSON, TSV or CSV: file's name -> electrode) for "
                        "channels named outside the 10-05 system")
    parser.add_argument("--simulated", action="store_true",
                        help="mark the dataset as simulated (automatic for folders written by 'moodreader simulate')")
    parser.add_argument("--parquet", metavar="DIR", help="also export the dataset as Parquet files to DIR")
    add_quiet(parser)
    parser.set_defaults(func=run)
    return parser


def parse_label_map(text: str) -> dict[str, str]:
    """``"1=happy,2=sad"`` or a JSON file ``{"1": "happy", ...}`` -> event value -> class name."""
    if text.lower().endswith(".json"):
        with reading(text, "--label-map", "a JSON object {event value: class name}"):
            mapping = json.loads(Path(text).read_text(encoding="utf-8"))
        if not isinstance(mapping, dict) or not mapping:
            fail(text, "--label-map", "a non-empty JSON object {event value: class name}", type(mapping).__name__)
        return {str(key): str(value) for key, value in mapping.items()}
    mapping = {}
    for item in text.split(","):
        value, equals, name = item.partition("=")
        if not equals or not value.strip() or not name.strip():
            fail("--label-map", "label_map", "comma-separated VALUE=NAME items (e.g. 1=happy,2=sad) or a .json "
                 "file", repr(item))
        mapping[value.strip()] = name.strip()
    return mapping


def layout_options(args: argparse.Namespace) -> dict[str, object]:
    """The loader options of ``args.layout`` from the command line. An option whose keyword the layout's loader does
    not take is refused, naming the layouts that take it; one the loader needs (``--labels``, ``--task``) is asked
    for."""
    values = {
        "labels": args.labels,
        "classes": [name.strip() for name in args.classes.split(",")] if args.classes else None,
        "task": args.task,
        "label_column": args.label_column,
        "label_map": parse_label_map(args.label_map) if args.label_map else None,
        "event_duration": args.event_duration,
        "rename": args.rename,
        "target": args.target,
        "threshold": args.threshold,
        "videos": args.videos,
        "reference": args.reference,
    }
    parameters = inspect.signature(get_layout(args.layout).iterate).parameters
    options = {}
    for option, keyword in LOADER_KEYWORDS.items():
        if values[option] is None:
            if keyword in parameters and parameters[keyword].default is inspect.Parameter.empty:
                fail(f"build-dataset {args.layout}", f"--{option.replace('_', '-')}",
                     f"a value (the {args.layout} layout needs it)", "none")
            continue
        if keyword not in parameters:
            owners = [name for name, layout in LAYOUTS.items()
                      if keyword in inspect.signature(layout.iterate).parameters]  # fmt: skip
            fail(f"--{option.replace('_', '-')}", "layout", f"a layout this option belongs to ({', '.join(owners)})",
                 repr(args.layout))
        options[keyword] = values[option]
    return options


def run(args: argparse.Namespace) -> int:
    """Build (and optionally export) the dataset, then summarise it."""
    check_replaceable(args.output_dir, DATASET_KIND, field="output_dir")
    if args.parquet:
        check_replaceable(args.parquet, PARQUET_KIND, field="--parquet")
        if args.parquet == args.output_dir:
            fail(args.parquet, "--parquet", "a folder other than OUTPUT_DIR", "the same folder")
    options = layout_options(args)
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
        sampling_rate=args.sampling_rate,
        bands=parse_bands(args.bands) if args.bands else None,
        layout_options=options or None,
        simulated=args.simulated,
        progress=not args.quiet,
    )
    dataset, metadata = load_built_dataset(path)
    kind = "SIMULATED (not real EEG)" if metadata["simulated"] else "real"
    print(f"Built {metadata['num_rows']} rows from {len(metadata['subjects'])} subjects ({kind} {args.layout} data, "
          f"columns {', '.join(dataset['train'].column_names)}) in {path}.")
    coverage = metadata["coverage"]
    print(f"{len(metadata['channel_names'])} electrodes at {metadata['sampling_rate']} Hz, classes "
          f"{', '.join(metadata['label_names'])}, bands {', '.join(metadata['band_names'])}; "
          f"{100 * coverage['share_in_rows']:.1f} % of the {coverage['labelled']:g} s of labelled signal in rows "
          "(the card says what was dropped).")
    if args.parquet:
        print(f"Exported Parquet to {export_parquet(path, args.parquet)}.")
    return 0
