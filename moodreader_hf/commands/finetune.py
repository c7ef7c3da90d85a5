"""``moodreader finetune`` (and ``scripts/finetune.py``): fine-tune and evaluate a recipe, LOSO or within-subject."""

from __future__ import annotations

import argparse
import sys

from ..cli import script_main
from ..training.finetune import run_finetuning
from ..training.pretrain import TrainingDivergedError
from ..training.recipe import load_recipe

HELP = "fine-tune and evaluate per fold (leave-one-subject-out or within-subject); writes report.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", required=True, help="recipe YAML (modeling/<name>.yaml)")
    parser.add_argument("--dataset", required=True, help="built dataset folder (moodreader_hf.builders)")
    parser.add_argument("--output-dir", required=True, help="folder for folds/, report.json, report.md, PNG")
    parser.add_argument("--protocol", choices=("loso", "within"), default=None, help="override the recipe")
    parser.add_argument("--pretrained", default=None,
                        help="pre-trained model folder (scripts/pretrain.py's model/); default: from scratch")
    parser.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default=None,
                        help="override the accelerate config and the recipe")
    parser.add_argument("--gradient-accumulation-steps", type=int, default=None, help="override the recipe")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe)
    try:
        report = run_finetuning(
            recipe, args.dataset, args.output_dir, protocol=args.protocol, pretrained=args.pretrained,
            mixed_precision=args.mixed_precision, gradient_accumulation_steps=args.gradient_accumulation_steps,
            progress=not args.no_progress)
    except TrainingDivergedError as error:
        print(f"moodreader finetune: error: {error}", file=sys.stderr)
        return 3
    if report is not None:
        print(f"accuracy {report['accuracy_mean']:.3f} ± {report['accuracy_std']:.3f} "
              f"(chance {report['chance_level']:.3f}, baseline {report['baseline']['accuracy_mean']:.3f}); "
              f"report: {args.output_dir}/report.json")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("finetune", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scripts/finetune.py``."""
    return script_main("finetune.py", HELP, add_arguments, run, argv)
