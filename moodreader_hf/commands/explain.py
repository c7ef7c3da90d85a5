"""``moodreader explain FILE_OR_DATASET --model ...``: electrode importance topomaps of a model on a recording or a
built dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..explain import METHODS, dataset_inputs, electrode_importance, plot_topomaps, recording_inputs
from ..hub import load_pipeline
from ..validation import MoodReaderInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="electrode importance per class (and band) as scalp topomaps",
        description="Electrode importance of a model, from its spatial attention or gradient x input, on a "
                    "recording (segments labelled by the model's prediction) or a built dataset (rows labelled by "
                    "their labels), saved as topomaps (PNG) and optionally as JSON arrays.",
    )
    parser.add_argument("source", type=Path, help="recording file or built dataset folder")
    parser.add_argument("--model", required=True, help="model folder or Hub repo id")
    parser.add_argument("--revision", help="Hub revision of the model")
    parser.add_argument("--method", choices=METHODS, default="attention", help="importance method")
    parser.add_argument("--output", type=Path, default=Path("electrode_importance.png"), help="PNG to write")
    parser.add_argument("--json", type=Path, help="also write the importance arrays to this JSON file")
    parser.add_argument("--max-rows", type=int, default=512, help="dataset rows used, evenly spaced (default 512)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    classifier = load_pipeline(args.model, revision=args.revision)
    try:
        if args.source.is_dir():
            inputs = dataset_inputs(args.source, classifier.feature_extractor, max_rows=args.max_rows,
                                    streams=classifier.model.config.streams,
                                    eye=bool(classifier.model.config.eye_feature_size))
        else:
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
        args.json.write_text(json.dumps(payload) + "\n", encoding="utf-8")
        print(f"Arrays: {args.json}")
    return 0
