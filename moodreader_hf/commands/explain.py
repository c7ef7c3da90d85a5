"""``moodreader explain FILE_OR_DATASET --model ...``: electrode importance topomaps of a model on a recording or a
built dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..explain import (
    METHODS,
    dataset_inputs,
    electrode_importance,
    load_montage,
    montage_positions,
    plot_topomaps,
    recording_inputs,
    vocabulary_recording,
)
from ..feature_files import is_feature_archive
from ..hub import load_pipeline
from ..recordings.reader import check_recording
from ..validation import MoodReaderInputError, fail
from .options import check_output_path, command_parser, whole_number
from .predict import pipeline_input


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "explain", help="electrode importance per class (and band) as scalp topomaps",
        description="Electrode importance of a model, from its spatial attention or gradient x input, on a "
                    "recording (segments labelled by the model's prediction) or a built dataset (rows labelled by "
                    "their labels), saved as topomaps (PNG) and optionally as JSON arrays.",
    )
    parser.add_argument("source", type=Path, help="recording file, .npz of DE features (as for predict) or built "
                        "dataset folder")
    parser.add_argument("--model", required=True, help="model folder or Hub repo id (a fine-tuned classifier)")
    parser.add_argument("--revision", help="Hub revision of the model")
    parser.add_argument("--method", choices=METHODS, default="attention", help="importance method")
    parser.add_argument("--output", type=Path, default=Path("electrode_importance.png"), help="PNG to write")
    parser.add_argument("--json", type=Path, help="also write the importance arrays to this JSON file")
    parser.add_argument("--max-rows", type=whole_number(1), default=512, metavar="N",
                        help="dataset rows used, evenly spaced (default 512)")
    parser.add_argument("--eye-features", type=Path, metavar="FILE",
                        help="eye-movement features of the recording (.npy or .csv, windows x eye_dims) for eye models")
    parser.add_argument("--montage", metavar="NAME|FILE",
                        help="electrode positions: an MNE built-in montage (standard_1020, biosemi64, ...) or a "
                        "position file (.elc, .sfp, .loc, .bvef, ...); a recording's channels named outside the "
                        "10-05 system are matched to electrodes by them (or by the file's own), and the maps are "
                        "drawn at them")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output_path(args.output, "--output")
    if args.output.suffix.lower() != ".png":
        fail(str(args.output), "--output", "a .png file name", repr(args.output.suffix))
    check_output_path(args.json, "--json")
    given = None if args.source.is_dir() else pipeline_input(args.source, args.eye_features)
    montage = load_montage(args.montage) if args.montage else None
    positions = montage_positions(montage) if montage is not None and args.source.is_dir() else None
    classifier = load_pipeline(args.model, revision=args.revision)
    try:
        if args.source.is_dir():
            inputs = dataset_inputs(args.source, classifier.feature_extractor, max_rows=args.max_rows,
                                    streams=classifier.model.config.streams,
                                    eye=bool(classifier.model.config.eye_feature_size))
        else:
            extractor = classifier.feature_extractor
            if not is_feature_archive(args.source):
                check_recording(args.source, band_edges=extractor.band_edges, window_seconds=extractor.window_seconds)
                raw, positions, mapping = vocabulary_recording(args.source, montage=montage)
                given = {**(given if isinstance(given, dict) else {}), "recording": raw}
                matched = [f"{original} -> {name}" for original, name, how in
                           zip(mapping.originals, mapping.names, mapping.how) if how != "name"]  # fmt: skip
                if matched:
                    print(f"Channels matched to electrodes by position: {', '.join(matched)}")
            inputs = recording_inputs(classifier, {"recording": given} if isinstance(given, str) else given)
    except MoodReaderInputError:
        raise
    except ValueError as error:
        raise MoodReaderInputError(f"{args.source}: {error}") from error
    importance = electrode_importance(classifier.model, **inputs, method=args.method)
    plot_topomaps(importance, args.output, title=f"Electrode importance ({args.method}) on {args.source.name}",
                  positions=positions or None)
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
