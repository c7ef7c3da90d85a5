"""A Gradio Space for a Mood Reader model: :func:`build_space` writes its folder (``moodreader publish-space``)."""

from .builder import REQUIREMENTS, SPACE_FILES, build_space, is_model_repo, requirements_text, write_examples

__all__ = ["REQUIREMENTS", "SPACE_FILES", "build_space", "is_model_repo", "requirements_text", "write_examples"]
