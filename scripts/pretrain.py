"""Entry point for `accelerate launch scripts/pretrain.py ...`; see `python scripts/pretrain.py --help`."""

import sys

from moodreader_hf.commands.pretrain import main

if __name__ == "__main__":
    sys.exit(main())
