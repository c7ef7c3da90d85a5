"""``moodreader publish-dataset DATASET_DIR``: the Hub repository folder of a built dataset, optionally uploaded."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..atomic import check_replaceable
from ..builders import export_parquet, load_built_dataset
from ..builders.dataset import PARQUET_KIND
from ..hub import resolve_token, upload_folder
from ..validation import fail
from .options import check_repo_id, command_parser


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "publish-dataset",
        help="export a built dataset as a Hub dataset repo (Parquet + card) and/or upload it",
        description="Write a built dataset as Parquet files with its card and metadata (--local-dir) and, with "
                    "--repo-id, upload them as a dataset repository (token from HF_TOKEN or `hf auth login`).",
    )
    parser.add_argument("dataset_dir", type=Path, help="folder written by the dataset builder")
    parser.add_argument("--local-dir", type=Path, help="write the repository folder here (kept after an upload)")
    parser.add_argument("--repo-id", help="upload to this Hub dataset repository (owner/name)")
    parser.add_argument("--commit-message", default="Upload EEG emotion dataset (moodreader)", help="commit message")
    parser.add_argument("--revision", help="branch to upload to (created if needed; default main)")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.local_dir is None and args.repo_id is None:
        fail("moodreader publish-dataset", "--local-dir/--repo-id", "at least one of them", "neither")
    check_repo_id(args.repo_id)
    if args.local_dir is not None:
        check_replaceable(args.local_dir, PARQUET_KIND, field="--local-dir")
    load_built_dataset(args.dataset_dir)
    token = resolve_token() if args.repo_id else None
    with tempfile.TemporaryDirectory(prefix="moodreader-publish-dataset-") as scratch:
        folder = args.local_dir if args.local_dir is not None else Path(scratch) / "repo"
        export_parquet(args.dataset_dir, folder)
        print(f"Repository folder: {folder}")
        if args.repo_id:
            commit = upload_folder(folder, args.repo_id, token=token, repo_type="dataset",
                                   commit_message=args.commit_message, revision=args.revision, private=args.private)
            print(f"Uploaded to {args.repo_id}: {getattr(commit, 'commit_url', commit)}")
    return 0
