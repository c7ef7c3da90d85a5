"""``moodreader simulate OUTPUT_DIR``: write simulated (not real) SEED-like recordings in the SEED file layout."""

from __future__ import annotations

import argparse

from ..atomic import check_replaceable
from ..simulation import DEFAULT_TRIAL_SECONDS, simulate_seed
from ..simulation.writer import MAX_SESSIONS, MAX_SUBJECTS, MAX_TRIAL_SECONDS, SIMULATION_KIND, shortest_trial_seconds
from ..validation import fail
from .options import add_quiet, command_parser, number, whole_number


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``simulate`` subcommand."""
    parser = command_parser(
        subparsers,
        "simulate",
        help="write SIMULATED SEED-like EEG (not real data) in the SEED / SEED-V file layout",
        description="Simulate SEED-like recordings (62 electrodes, 200 Hz, planted per-emotion band-power effects) "
        "and write them in the published SEED or SEED-V file layout. The output is simulated, not real EEG. The "
        "folder appears only once complete (a killed run leaves nothing a builder could read).",
    )
    parser.add_argument("output_dir", help="folder to write (new, empty, or an earlier simulation, which is replaced)")
    parser.add_argument("--subjects", type=whole_number(1, MAX_SUBJECTS), default=5, metavar="N",
                        help=f"number of subjects (default 5, at most {MAX_SUBJECTS})")
    parser.add_argument("--sessions", type=whole_number(1, MAX_SESSIONS), default=3, metavar="N",
                        help="sessions per subject (default 3; seed-v needs 3)")
    parser.add_argument("--trial-seconds", type=number(0.0, MAX_TRIAL_SECONDS), default=DEFAULT_TRIAL_SECONDS,
                        metavar="SECONDS", help=f"longest trial in seconds; trials last 85-100%% of it "
                        f"(default {DEFAULT_TRIAL_SECONDS:g}, at most {MAX_TRIAL_SECONDS:g})")
    parser.add_argument("--seed", type=whole_number(0), default=0, metavar="N",
                        help="random seed, a whole number from 0 (default 0)")
    parser.add_argument("--layout", choices=("seed", "seed-v"), default="seed", help="file layout (default seed)")
    add_quiet(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Simulate and report where the simulated data went."""
    check_replaceable(args.output_dir, SIMULATION_KIND, field="output_dir")
    if args.layout == "seed-v" and args.sessions != 3:
        fail("moodreader simulate", "--sessions", "3 for --layout seed-v (a SEED-V subject file holds 3 sessions)",
             args.sessions)
    shortest = shortest_trial_seconds(args.layout)
    if args.trial_seconds < shortest:
        fail("moodreader simulate", "--trial-seconds", f"at least {shortest:.2f} s for --layout {args.layout}",
             args.trial_seconds)
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
