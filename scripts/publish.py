"""Build the Hub repository folder of a trained model and optionally upload it (same as ``moodreader publish``).

    python scripts/publish.py MODEL_DIR --local-dir REPO [--report report.json] [--repo-id owner/name]
"""

import argparse
import sys

from moodreader_hf.commands import publish
from moodreader_hf.validation import MoodReaderInputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="publish.py")
    publish.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["publish", *(sys.argv[1:] if argv is None else argv)])
    try:
        return publish.run(args)
    except MoodReaderInputError as error:
        print(f"publish.py: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
