"""``moodreader publish-dataset DATASET_DIR``: the Hub repository folder of a built dataset or of a pre-training
corpus, optionally uploaded."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from ..atomic import check_replaceable, mark_folder, replace_folder
from ..builders import export_parquet, load_built_dataset, load_corpus_metadata
from ..builders.corpus import METADATA_FILE as CORPUS_METADATA
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
    parser.add_argument("dataset_dir", type=Path,
                        help="folder written by build-dataset, or a corpus folder written by build-corpus")
    parser.add_argument("--local-dir", type=Path, help="write the repository folder here (kept after an upload)")
    parser.add_argument("--repo-id", help="upload to this Hub dataset repository (owner/name)")
    parser.add_argument("--commit-message", default="Upload EEG emotion dataset (moodreader)", help="commit message")
    parser.add_argument("--revision", help="branch to upload to (created if needed; default main)")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.set_defaults(func=run)


def _corpus_copy(corpus: Path, folder: Path) -> None:
    """A corpus is already a Hub dataset folder (Parquet shards, card, metadata): copy its files as they are."""
    stage = folder.with_name(f".{folder.name}.tmp-corpus")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(corpus, stage, ignore=shutil.ignore_patterns(".*"))
    mark_folder(stage, PARQUET_KIND)
    replace_folder(stage, folder)


def run(args: argparse.Namespace) -> int:
    if args.local_dir is None and args.repo_id is None:
        fail("moodreader publish-dataset", "--local-dir/--repo-id", "at least one of them", "neither")
    check_repo_id(args.repo_id)
    if args.local_dir is not None:
        check_replaceable(args.local_dir, PARQUET_KIND, field="--local-dir")
    corpus = (args.dataset_dir / CORPUS_METADATA).is_file()
    if corpus:
        load_corpus_metadata(args.dataset_dir)
    else:
        load_built_dataset(args.dataset_dir)
    token = resolve_token() if args.repo_id else None
    with tempfile.TemporaryDirectory(prefix="moodreader-publish-dataset-") as scratch:
        folder = args.local_dir if args.local_dir is not None else Path(scratch) / "repo"
        if corpus:
            _corpus_copy(args.dataset_dir, folder)
        else:
            export_parquet(args.dataset_dir, folder)
        print(f"Repository folder: {folder}")
        if args.repo_id:
            commit = upload_folder(folder, args.repo_id, token=token, repo_type="dataset",
                                   commit_message=args.commit_message, revision=args.revision, private=args.private)
            print(f"Uploaded to {args.repo_id}: {getattr(commit, 'commit_url', commit)}")
    return 0
