"""``moodreader simulate OUTPUT_DIR``: write simulated (not real) SEED-like recordings in the SEED file layout."""

from __future__ import annotations

import argparse

from ..simulation import DEFAULT_TRIAL_SECONDS, simulate_seed


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate",
        help="write SIMULATED SEED-like EEG (not real data) in the SEED / SEED-V file layout",
        description="Simulate SEED-like recordings (62 electrodes, 200 Hz, planted per-emotion band-power effects) "
        "and write them in the published SEED or SEED-V file layout. The output is simulated, not real EEG.",
    )
    parser.add_argument("output_dir", help="folder to write (created)")
    parser.add_argument("--subjects", type=int, default=5, help="number of subjects (default 5)")
    parser.add_argument("--sessions", type=int, default=3, help="sessions per subject (default 3; seed-v needs 3)")
    parser.add_argument("--trial-seconds", type=float, default=DEFAULT_TRIAL_SECONDS,
                        help=f"longest trial in seconds; trials last 85-100%% of it "
                        f"(default {DEFAULT_TRIAL_SECONDS:g})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--layout", choices=("seed", "seed-v"), default="seed", help="file layout (default seed)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Simulate and report where the simulated data went."""
    root = simulate_seed(
        args.output_dir,
        n_subjects=args.subjects,
        n_sessions=args.sessions,
        trial_seconds=args.trial_seconds,
        seed=args.seed,
        layout=args.layout,
        progress=not args.quiet,
    )
    print(f"Wrote SIMULATED {args.layout} recordings (not real EEG; seed {args.seed}, {args.subjects} subjects) to "
          f"{root} -- see {root / 'SIMULATED.txt'}.")
    return 0
