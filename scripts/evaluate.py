"""Score a fine-tuned model folder on a built dataset; see `python scripts/evaluate.py --help`."""

import sys

from moodreader_hf.commands.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
