"""``moodreader predict FILE --model REPO_OR_DIR``: the emotion timeline and overall emotion of a recording (or of
DE features in an ``.npz``), with the eye-movement features of eye models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..feature_files import is_feature_archive, read_eye_features, read_feature_archive
from ..validation import MoodReaderInputError, fail
from .options import command_parser, whole_number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "predict", help="emotion scores of a recording, per segment and overall",
        description="Classify a recording (any file MNE reads: EDF, BDF, FIF, BrainVision, EEGLAB, CNT) with a "
                    "model folder or Hub repo: one line per segment of windows, then the overall emotion. A model "
                    "trained on a dataset's distributed DE takes that DE instead: an .npz holding de_features "
                    "(windows, channels, bands) and, for eye models, eye_features (windows, eye_dims).",
    )
    parser.add_argument("file", type=Path, help="recording file, or an .npz of DE features")
    parser.add_argument("--model", required=True, help="model folder or Hub repo id (a fine-tuned classifier)")
    parser.add_argument("--revision", help="Hub revision of the model")
    parser.add_argument("--segment-windows", type=whole_number(1), metavar="N",
                        help="windows per segment (default: the model's training rows)")
    parser.add_argument("--on-missing", choices=("mask", "raise"), default="mask",
                        help="electrodes of the montage absent from the file: mask them (default) or fail")
    parser.add_argument("--eye-features", type=Path, metavar="FILE",
                        help="eye-movement features (.npy or .csv, windows x eye_dims) for models trained with them")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.set_defaults(func=run)


def pipeline_input(file: Path, eye_file: Path | None) -> Any:
    """What the pipeline is given: the recording's path, or a dict of DE (from an ``.npz``) and eye features."""
    if is_feature_archive(file):
        inputs = read_feature_archive(file, field="FILE")
        if eye_file is not None:
            if "eye_features" in inputs:
                fail(str(file), "eye_features", "eye features in the .npz or in --eye-features, not in both",
                     "both")
            inputs["eye_features"] = read_eye_features(eye_file)
        return inputs
    from ..recordings.reader import open_raw

    open_raw(file, preload=False)
    if eye_file is None:
        return str(file)
    return {"recording": str(file), "eye_features": read_eye_features(eye_file)}


def run(args: argparse.Namespace) -> int:
    from ..hub import load_pipeline
    from ..recordings.reader import check_recording

    inputs = pipeline_input(args.file, args.eye_features)
    classifier = load_pipeline(args.model, revision=args.revision)
    extractor = classifier.feature_extractor
    if not is_feature_archive(args.file):
        check_recording(args.file, band_edges=extractor.band_edges, window_seconds=extractor.window_seconds)
    limit = classifier.model.config.max_windows
    if args.segment_windows is not None and args.segment_windows > limit:
        raise MoodReaderInputError(f"{args.model}: field '--segment-windows': expected at most the model's "
                                   f"max_windows={limit}, got {args.segment_windows}.")
    try:
        result = classifier(inputs, segment_windows=args.segment_windows, on_missing=args.on_missing)
    except MoodReaderInputError:
        raise
    except ValueError as error:
        raise MoodReaderInputError(f"{args.file}: {error}") from error
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if result["missing_channels"]:
        print("Masked electrodes (absent from the recording, or never recorded in the model's training data): "
              f"{', '.join(result['missing_channels'])}")
    labels = [entry["label"] for entry in result["scores"]]
    print(f"{'start (s)':>10} {'end (s)':>10}  {'emotion':<12}" + "".join(f"{label:>12}" for label in labels))
    for segment in result["segments"]:
        scores = {entry["label"]: entry["score"] for entry in segment["scores"]}
        print(f"{segment['start']:>10.1f} {segment['end']:>10.1f}  {segment['label']:<12}"
              + "".join(f"{scores[label]:>12.3f}" for label in labels))
    print(f"Overall: {result['label']} ({result['score']:.3f})")
    return 0
