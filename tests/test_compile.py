"""``model.compile: true`` in a recipe: the compiled model computes what the eager one does, on CPU."""

from __future__ import annotations

import copy

import pytest
import torch

from moodreader_hf import MoodReaderConfig, MoodReaderForEmotionRecognition
from moodreader_hf.training.recipe import recipe_from_dict
from moodreader_hf.training.runtime import compile_if_asked
from moodreader_hf.validation import MoodReaderInputError


def test_the_recipe_reads_model_compile_and_refuses_a_non_boolean():
    recipe = recipe_from_dict({"name": "x", "model": {"compile": True, "hidden_size": 16, "num_attention_heads": 2}})
    assert recipe.compile is True and "compile" not in recipe.model and recipe.model_config().hidden_size == 16
    assert recipe_from_dict({"name": "x"}).compile is False
    with pytest.raises(MoodReaderInputError, match="field 'model.compile': expected true or false, got 'yes'"):
        recipe_from_dict({"name": "x", "model": {"compile": "yes"}})
    with pytest.raises(MoodReaderInputError, match="field 'compile'"):
        recipe_from_dict({"name": "x", "compile": True})


def test_a_compiled_model_gives_the_eager_outputs_and_gradients():
    torch.manual_seed(0)
    config = MoodReaderConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                              streams=["de", "signal"], signal_patch_size=100, hidden_dropout_prob=0.0,
                              attention_dropout_prob=0.0, classifier_dropout_prob=0.0, max_windows=4,
                              sequence_windows=4)
    eager = MoodReaderForEmotionRecognition(config)
    compiled = compile_if_asked(copy.deepcopy(eager), True)
    assert type(compiled) is MoodReaderForEmotionRecognition and compiled.state_dict().keys() == eager.state_dict().keys()
    inputs = {"de_features": torch.randn(3, 4, 62, 5), "eeg_signals": 20 * torch.randn(3, 62, 800),
              "labels": torch.tensor([0, 1, 2])}
    expected, got = eager(**inputs), compiled(**inputs)
    torch.testing.assert_close(got.logits, expected.logits, rtol=1e-4, atol=1e-5)
    expected.loss.backward()
    got.loss.backward()
    for (name, parameter), (_, twin) in zip(eager.named_parameters(), compiled.named_parameters()):
        if parameter.grad is not None:
            torch.testing.assert_close(twin.grad, parameter.grad, rtol=1e-3, atol=1e-5, msg=name)
    assert compile_if_asked(eager, False) is eager
