"""``moodreader publish MODEL_DIR``: build the Hub repository folder of a trained model and optionally upload it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..hub import DEFAULT_TEMPLATE, build_model_repo, check_output_folder, resolve_token, upload_folder
from ..validation import fail
from .options import check_repo_id, command_parser


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "publish",
        help="build the Hub repo folder of a trained model (--local-dir) and/or upload it (--repo-id)",
        description="Build the Hub repository folder of a trained model: weights, config with auto_map and the "
                    "custom pipeline, remote code, preprocessor config, README from model_card.md with the "
                    "evaluation report's numbers, and the Inference Endpoints handler.py. With --repo-id, upload it "
                    "(token from HF_TOKEN or `hf auth login`).",
    )
    parser.add_argument("model_dir", type=Path, help="folder of the trained model (save_pretrained output)")
    parser.add_argument("--local-dir", type=Path, help="write the repository folder here (kept after an upload)")
    parser.add_argument("--repo-id", help="upload to this Hub repository (owner/name)")
    parser.add_argument("--report", type=Path, help="report.json of the evaluation (default: MODEL_DIR/report.json)")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="model card template")
    parser.add_argument("--license", default="apache-2.0", help="licence identifier of the card (default apache-2.0)")
    parser.add_argument("--dataset-id", help="Hub id of the training dataset, for the card's metadata")
    parser.add_argument("--topomap", type=Path, help="PNG of electrode importance to embed in the card")
    parser.add_argument("--commit-message", default="Upload Mood Reader EEG emotion model", help="commit message")
    parser.add_argument("--revision", help="branch to upload to (created if needed; default main)")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a repository folder this command wrote before (never a folder holding files it "
                        "did not write)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.local_dir is None and args.repo_id is None:
        fail("moodreader publish", "--local-dir/--repo-id", "at least one of them", "neither")
    check_repo_id(args.repo_id)
    if args.local_dir is not None:
        check_output_folder(args.local_dir, args.overwrite)
    token = resolve_token() if args.repo_id else None
    options = dict(report=args.report, template=args.template, repo_id=args.repo_id, license=args.license,
                   dataset_id=args.dataset_id, topomap=args.topomap)
    with tempfile.TemporaryDirectory(prefix="moodreader-publish-") as scratch:
        folder = args.local_dir if args.local_dir is not None else Path(scratch) / "repo"
        build_model_repo(args.model_dir, folder, overwrite=args.overwrite, **options)
        print(f"Repository folder: {folder}")
        if args.repo_id:
            commit = upload_folder(folder, args.repo_id, token=token, commit_message=args.commit_message,
                                   revision=args.revision, private=args.private)
            print(f"Uploaded to {args.repo_id}: {getattr(commit, 'commit_url', commit)}")
    return 0
