"""``moodreader publish-space --model REPO_ID_OR_DIR --local-dir SPACE``: write a Gradio Space for a model and
optionally upload it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..hub import check_output_folder, resolve_token, upload_folder
from ..simulation.writer import SHORTEST_TRIAL_FRACTION
from ..space import build_space
from ..space.builder import EXAMPLE_SECONDS, MAX_EXAMPLE_SECONDS, MODEL_FOLDER, SPACE_KIND
from ..validation import fail
from .options import check_repo_id, command_parser, number


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subparsers, "publish-space",
        help="write a Gradio Space for a model (--local-dir) and/or upload it (--repo-id)",
        description="Write a Gradio Space that loads the model through its eeg-emotion-recognition pipeline "
                    "(trust_remote_code): app.py, requirements.txt pinned to the installed versions, README.md with "
                    "the Space metadata, simulated example recordings. Run it with `python app.py` in the folder. "
                    "With --repo-id, upload it (token from HF_TOKEN or `hf auth login`). Running the app needs "
                    "gradio: pip install 'moodreader-hf[space]'.",
    )
    parser.add_argument("--model", required=True,
                        help="Hub repo id of the model, or a local model folder (a repository folder written by "
                             "`moodreader publish`, or any model folder with --copy-model)")
    parser.add_argument("--local-dir", type=Path, help="write the Space folder here (kept after an upload)")
    parser.add_argument("--repo-id", help="upload to this Hub Space (owner/name)")
    parser.add_argument("--copy-model", action="store_true",
                        help=f"put a local model inside the Space as {MODEL_FOLDER}/ (runs offline; uploadable)")
    parser.add_argument("--title", default="Mood Reader EEG emotion recognition", help="the Space's title")
    parser.add_argument("--example-seconds", type=number(1.0 / SHORTEST_TRIAL_FRACTION, MAX_EXAMPLE_SECONDS,
                                                          include_low=True),
                        default=EXAMPLE_SECONDS, metavar="SECONDS",
                        help=f"longest simulated example recording in seconds (default %(default)s, at most "
                        f"{MAX_EXAMPLE_SECONDS:g})")
    parser.add_argument("--commit-message", default="Upload Mood Reader Space", help="commit message")
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a Space folder this command wrote before (never a folder holding files it did "
                        "not write)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.local_dir is None and args.repo_id is None:
        fail("moodreader publish-space", "--local-dir/--repo-id", "at least one of them", "neither")
    check_repo_id(args.repo_id)
    if args.local_dir is not None:
        check_output_folder(args.local_dir, args.overwrite, kind=SPACE_KIND)
    if args.repo_id and Path(args.model).exists() and not args.copy_model:
        fail("moodreader publish-space", "--model", "a Hub repo id, or --copy-model, for an uploaded Space (it "
             "cannot read a folder on this machine)", f"the local folder {args.model!r}")
    token = resolve_token() if args.repo_id else None
    with tempfile.TemporaryDirectory(prefix="moodreader-space-") as scratch:
        folder = args.local_dir if args.local_dir is not None else Path(scratch) / "space"
        build_space(args.model, folder, copy_model=args.copy_model, title=args.title,
                    example_seconds=args.example_seconds, overwrite=args.overwrite)
        print(f"Space folder: {folder} (run it: cd {folder} && python app.py)")
        if args.repo_id:
            commit = upload_folder(folder, args.repo_id, token=token, repo_type="space", space_sdk="gradio",
                                   commit_message=args.commit_message, private=args.private)
            print(f"Uploaded to the Space {args.repo_id}: {getattr(commit, 'commit_url', commit)}")
    return 0
