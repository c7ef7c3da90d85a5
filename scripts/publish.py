"""Build the Hub repository folder of a trained model and optionally upload it (same as ``moodreader publish``).

    python scripts/publish.py MODEL_DIR --local-dir REPO [--report report.json] [--repo-id owner/name]
"""

import sys

from moodreader_hf.cli import OneLineErrorParser, run_command
from moodreader_hf.commands import publish


def main(argv: list[str] | None = None) -> int:
    parser = OneLineErrorParser(prog="publish.py")
    publish.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["publish", *(sys.argv[1:] if argv is None else argv)])
    return run_command(publish.run, args, "publish.py")


if __name__ == "__main__":
    sys.exit(main())
