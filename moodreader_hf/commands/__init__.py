"""Subcommands of ``moodreader``: each module defines ``register(subparsers)`` setting ``func``."""
