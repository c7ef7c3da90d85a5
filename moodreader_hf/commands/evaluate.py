"""``moodreader evaluate`` (and ``scripts/evaluate.py``): score a saved fine-tuned model on a built dataset."""

from __future__ import annotations

import argparse
import json

from ..builders import load_built_dataset
from ..cli import script_main
from ..hub import check_classifier, quiet_loading
from ..training.evaluate import evaluate_model
from ..validation import fail
from .options import check_output_path, command_parser

HELP = "accuracy, macro-F1 and confusion matrix of a fine-tuned model folder on a built dataset"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="fine-tuned model folder (with preprocessor_config.json)")
    parser.add_argument("--dataset", required=True, help="built dataset folder")
    parser.add_argument("--subject", action="append", default=None, help="evaluate these subjects only (repeat)")
    parser.add_argument("--output", default=None, help="write the result as JSON here")


def run(args: argparse.Namespace) -> int:
    check_output_path(args.output, "--output")
    check_classifier(args.model)
    _, metadata = load_built_dataset(args.dataset)
    unknown = sorted(set(args.subject or []) - {str(subject) for subject in metadata.get("subjects", [])})
    if unknown and metadata.get("subjects"):
        fail(str(args.dataset), "--subject", f"subjects of the dataset {metadata['subjects']}", unknown)
    with quiet_loading():
        result = evaluate_model(args.model, args.dataset, subjects=args.subject, output=args.output)
    print(json.dumps({key: result[key] for key in ("n", "n_windows", "accuracy", "macro_f1", "balanced_accuracy",
                                                   "row_accuracy")}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, "evaluate", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scripts/evaluate.py``."""
    return script_main("evaluate.py", HELP, add_arguments, run, argv)
