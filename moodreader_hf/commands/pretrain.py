"""``moodreader pretrain`` (and ``scripts/pretrain.py``): MBSM pre-training of a recipe's raw-signal encoder on
corpora and built datasets holding the raw signal, streamed.

Several processes or nodes: ``accelerate launch -q --config_file modeling/accelerate/<config>.yaml
scripts/pretrain.py ...`` (each process streams its own shards; ``-q`` keeps accelerate's own traceback off a
refused input). Several nodes: run the same command on every node with ``--num_machines N --machine_rank R
--main_process_ip HOST --main_process_port PORT`` (or a config file saying so); every node must see the corpus
folders at the same path."""

from __future__ import annotations

import argparse
import sys

from ..cli import script_main
from ..training.pretrain import TrainingDivergedError, run_pretraining
from .finetune import MAX_ACCUMULATION
from .options import add_quiet, check_folder, check_output_dir, command_parser, read_recipe, whole_number

HELP = "pre-train the encoder with masked brain signal modelling (run under `accelerate launch` for several devices)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", required=True, help="recipe YAML (modeling/<name>.yaml)")
    parser.add_argument("--corpus", action="append", default=[],
                        help="corpus folder written by `moodreader build-corpus`; repeat for several")
    parser.add_argument("--dataset", action="append", default=[],
                        help="built dataset folder holding the raw signal (build-dataset --include-signal); repeat "
                        "for several (labels are ignored)")
    parser.add_argument("--output-dir", required=True, help="folder for checkpoints/, model/ and pretrain_log.json")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --output-dir")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh in an --output-dir holding another run's checkpoints (they are deleted)")
    parser.add_argument("--mixed-precision", choices=("no", "fp16", "bf16"), default=None,
                        help="override the accelerate config and the recipe")
    parser.add_argument("--gradient-accumulation-steps", type=whole_number(1, MAX_ACCUMULATION), default=None,
                        metavar="N", help="override the recipe (a whole number from 1)")
    add_quiet(parser)


def run(args: argparse.Namespace) -> int:
    check_output_dir(args.output_dir, "--output-dir")
    recipe = read_recipe(args.recipe)
    for corpus in args.corpus:
        check_folder(corpus, "--corpus", "a corpus folder written by `moodreader build-corpus`")
    for dataset in args.dataset:
        check_folder(dataset, "--dataset", "a dataset folder built with --include-signal")
    try:
        model_dir = run_pretraining(
            recipe, args.dataset, args.output_dir, corpus_paths=args.corpus, resume=args.resume,
            overwrite=args.overwrite, mixed_precision=args.mixed_precision,
            gradient_accumulation_steps=args.gradient_accumulation_steps, progress=not args.quiet)
    except TrainingDivergedError as error:
        print(f"moodreader pretrain: error: {error}", file=sys.stderr)
        return 3
    print(f"pre-trained model: {model_dir}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, "pretrain", help=HELP, description=HELP)
    add_arguments(parser)
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scripts/pretrain.py``."""
    return script_main("pretrain.py", HELP, add_arguments, run, argv)
