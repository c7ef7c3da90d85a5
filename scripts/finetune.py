"""Entry point for `accelerate launch scripts/finetune.py ...`; see `python scripts/finetune.py --help`."""

import sys

from moodreader_hf.commands.finetune import main

if __name__ == "__main__":
    sys.exit(main())
