"""``moodreader explain FILE_OR_DATASET --model ...``: electrode importance topomaps of a model on a recording or a
built dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..explain import METHODS, dataset_inputs, electrode_importance, plot_topomaps, recording_inputs
from ..hub import load_pipeline
from ..recordings.reader import check_recording, open_raw
from ..validation import MoodReaderInputError, fail
from .options import check_output_path, command_parser, whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "explain", help="electrode importance per class (and band) as scalp topomaps",
        description="Electrode importance of a model, from its spatial attention or gradient x input, on a "
                    "recording (segments labelled by the model's prediction) or a built dataset (rows labelled by "
                    "their labels), saved as topomaps (PNG) and optionally as JSON arrays.",
    )
    parser.add_argument("source", type=Path, help="recording file or built dataset folder")
    parser.add_argument("--model", required=True, help="model folder or Hub repo id (a fine-tuned classifier)")
    parser.add_argument("--revision", help="Hub revision of the model")
    parser.add_argument("--method", choices=METHODS, default="attention", help="importance method")
    parser.add_argument("--output", type=Path, default=Path("electrode_importance.png"), help="PNG to write")
    parser.add_argument("--json", type=Path, help="also write the importance arrays to this JSON file")
    parser.add_argument("--max-rows", type=whole_number(1), default=512, metavar="N",
                        help="dataset rows used, evenly spaced (default 512)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_path(args.output, "--output")
    if args.output.suffix.lower() != ".png":
        fail(str(args.output), "--output", "a .png file name", repr(args.output.suffix))
    check_output_path(args.json, "--json")
    if not args.source.is_dir():
        open_raw(args.source, preload=False)
    classifier = load_pipeline(args.model, revision=args.revision)
    try:
        if args.source.is_dir():
            inputs = dataset_inputs(args.source, classifier.feature_extractor, max_rows=args.max_rows,
                                    streams=classifier.model.config.streams,
                                    eye=bool(classifier.model.config.eye_feature_size))
        else:
            extractor = classifier.feature_extractor
            check_recording(args.source, band_edges=extractor.band_edges, window_seconds=extractor.window_seconds)
            inputs = recording_inputs(classifier, args.source)
    except MoodReaderInputError:
        raise
    except ValueError as error:
        raise MoodReaderInputError(f"{args.source}: {error}") from error
    importance = electrode_importance(classifier.model, **inputs, method=args.method)
    plot_topomaps(importance, args.output, title=f"Electrode importance ({args.method}) on {args.source.name}")
    print(f"Topomaps: {args.output}")
    for label, count in zip(importance.class_names, importance.samples):
        if count:
            print(f"{label} ({count} samples): top electrodes {', '.join(importance.top_electrodes(5, label))}")
    if args.json is not None:
        payload = {"method": importance.method, "channel_names": importance.channel_names,
                   "band_names": importance.band_names, "class_names": importance.class_names,
                   "samples": importance.samples.tolist(),
                   "values": np.where(np.isnan(importance.values), None, importance.values).tolist()}
        write_text(args.json, json.dumps(payload) + "\n")
        print(f"Arrays: {args.json}")
    return 0
