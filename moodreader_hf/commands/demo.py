"""``moodreader demo``: the main job in one command (simulated data unless ``--seed-dir`` points at SEED)."""

from __future__ import annotations

import argparse
import os
import time

from .options import add_quiet, check_folder, check_output_dir, command_parser, read_recipe

HELP = ("simulate SEED-like data (or read a SEED download), pre-train, evaluate leave-one-subject-out and write "
        "report.json and a publishable model folder")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(subparsers, "demo", help=HELP, description=HELP)
    parser.add_argument("--output-dir", default="moodreader-demo", help="where everything goes (default: %(default)s)")
    parser.add_argument("--seed-dir", default=None,
                        help="a real SEED download (folder holding Preprocessed_EEG/); default: simulated data")
    parser.add_argument("--corpus", default=None,
                        help="a corpus folder (moodreader build-corpus) to pre-train on; default: a simulated corpus, "
                        "or with --seed-dir a corpus of that download's own Preprocessed_EEG recordings")
    parser.add_argument("--recipe", default=None, help="recipe YAML (default: the packaged moodreader-tiny recipe)")
    add_quiet(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    check_output_dir(args.output_dir, "--output-dir")
    check_folder(args.seed_dir, "--seed-dir", "a SEED download folder")
    check_folder(args.corpus, "--corpus", "a corpus folder written by `moodreader build-corpus`")
    from ..training import fold_pool

    if os.environ.get(fold_pool.WORKERS_VARIABLE) != "0":
        fold_pool.prepare_workers()  # the workers' fork server imports torch and transformers while this process does
    from ..training.demo import run_demo

    if args.recipe is not None:
        read_recipe(args.recipe)
    if args.seed_dir is None:
        print("moodreader demo: the data of this demo is SIMULATED (a seeded SEED-like generator), not real EEG.")
    result = run_demo(args.output_dir, seed_dir=args.seed_dir, recipe_path=args.recipe, corpus=args.corpus,
                      progress=not args.quiet)
    kind = "simulated data" if result.simulated else "real data"
    print(f"LOSO accuracy {result.accuracy_mean:.3f} ± {result.accuracy_std:.3f} on {kind} "
          f"(chance {result.chance_level:.3f}, logistic-regression baseline {result.baseline_accuracy:.3f}) "
          f"in {time.perf_counter() - started:.0f} s")
    stages = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.stage_seconds.items())
    if result.beside_seconds:
        stages += "; beside the data: " + ", ".join(f"{name} {seconds:.0f} s"
                                                    for name, seconds in result.beside_seconds.items())
    print("stages: " + stages)
    print(f"report:           {result.report}")
    print(f"per-subject table: {result.report_markdown}")
    print(f"confusion matrix: {result.confusion_matrix}")
    print(f"publishable model folder: {result.model}")
    return 0
