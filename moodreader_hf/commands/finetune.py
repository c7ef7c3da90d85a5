"""``moodreader finetune`` (and ``scripts/finetune.py``): fine-tune and evaluate a recipe by a named protocol
(:data:`moodreader_hf.training.protocols.PROTOCOLS`), for one or several seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import script_main
from ..training.finetune import run_finetuning
from ..training.protocols import PROTOCOLS
from ..training.pretrain import TrainingDivergedError
from ..validation import fail, reading
from .options import (add_quiet, check_built_dataset, check_output_dir, command_parser, read_recipe,
                      whole_number)

HELP = ("fine-tune and evaluate under a named protocol (loso, loso-session, cross-session, within-trials, ...); "
        "writes report.json")
MAX_ACCUMULATION = 4096
MAX_SEED = 2**32 - 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", required=True, help="recipe YAML (modeling/<name>.yaml)")
    parser.add_argument("--dataset", required=True, help="built dataset folder (moodreader_hf.builders)")
    parser.add_argument("--output-dir", required=True, help="folder for folds/, report.json, report.md, PNG")
    parser.add_argument("--protocol", choices=tuple(PROTOCOLS), default=None,
                        help="evaluation protocol (see the README's table); default: the recipe's finetune.protocol")
    parser.add_argument("--seeds", type=whole_number(0, MAX_SEED), nargs="+", default=None, metavar="SEED",
                        help="repeat the protocol with these seeds (default: the recipe's finetune.seeds, else seed)")
    parser.add_argument("--split-file", default=None,
                        help="given-split: CSV/TSV of the dataset's own split (subject, split[, session, trial])")
    parser.add_argument("--pretrained", default=None,
                        help="pre-trained model folder (scripts/pretrain.py's model/); default: from scratch")
    parser.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default=None,
                        help="override the accelerate config and the recipe")
    parser.add_argument("--gradient-accumulation-steps", type=whole_number(1, MAX_ACCUMULATION), default=None,
                        metavar="N", help="override the recipe (a whole number from 1)")
    add_quiet(parser)


def check_pretrained_folder(path: str | None) -> None:
    """Refuse, before any work, a ``--pretrained`` folder that MBSM pre-training did not write (no folder, no
    ``pretraining.json``) or whose weights cannot be read."""
    if path is None:
        return
    from safetensors import safe_open

    from ..training.transfer import WEIGHTS_FILE, read_pretraining_record

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        fail(str(folder), "--pretrained", "a pre-trained model folder (pretrain's model/)", "a file")
    read_pretraining_record(folder)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        fail(str(folder), WEIGHTS_FILE, "the pre-trained weights", "no such file")
    with reading(weights, WEIGHTS_FILE, "a safetensors weights file"), safe_open(str(weights), framework="pt") as f:
        list(f.keys())


def run(args: argparse.Namespace) -> int:
    check_output_dir(args.output_dir, "--output-dir")
    recipe = read_recipe(args.recipe)
    check_built_dataset(args.dataset)
    check_pretrained_folder(args.pretrained)
    if args.seeds is not None and len(set(args.seeds)) < len(args.seeds):
        fail("command line", "--seeds", "distinct seeds", args.seeds)
    protocol = args.protocol or recipe.finetune.protocol
    if args.split_file is not None and protocol != "given-split":
        fail("command line", "--split-file", "--protocol given-split (a split table is read by that protocol only)",
             f"protocol {protocol!r}")
    try:
        report = run_finetuning(
            recipe, args.dataset, args.output_dir, protocol=args.protocol, seeds=args.seeds,
            split_file=args.split_file, pretrained=args.pretrained,
            mixed_precision=args.mixed_precision, gradient_accumulation_steps=args.gradient_accumulation_steps,
            progress=not args.quiet)
    except TrainingDivergedError as error:
        print(f"moodreader finetune: error: {error}", file=sys.stderr)
        return 3
    if report is not None:
        baselines = ", ".join(f"{entry['name']} {entry['accuracy_mean']:.3f}"
                              for entry in report["baselines"].values())
        print(f"{report['protocol']}: accuracy per window {report['accuracy_mean']:.3f} ± "
              f"{report['accuracy_std']:.3f} over subjects (chance {report['chance_level']:.3f}; {baselines}); "
              f"report: {args.output_dir}/report.md")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, "finetune", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scripts/finetune.py``."""
    return script_main("finetune.py", HELP, add_arguments, run, argv)
