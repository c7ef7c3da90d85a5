"""The reference a reader compares the model with: multinomial logistic regression on flattened DE.

Features are the normalised DE of a row flattened to ``time * channels * bands`` values, standardised with the
training rows' mean and standard deviation; the L2-penalised cross-entropy is minimised with L-BFGS in float64.
"""

from __future__ import annotations

import numpy as np
import torch

BASELINE_NAME = "logistic regression on flattened DE"


def fit_logistic_regression(
    features: np.ndarray, labels: np.ndarray, num_classes: int, *, l2: float, max_iter: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit on ``features (rows, dims)`` and ``labels (rows,)``.

    Returns:
        ``(weights (dims, classes), bias (classes,), feature_mean (dims,), feature_std (dims,))``.
    """
    x = torch.as_tensor(features, dtype=torch.float64)
    mean, std = x.mean(dim=0), x.std(dim=0).clamp_min(1e-6)
    x = (x - mean) / std
    y = torch.as_tensor(labels, dtype=torch.long)
    weights = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weights + bias, y) + 0.5 * l2 * weights.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weights.detach().numpy(), bias.detach().numpy(), mean.numpy(), std.numpy()


def logistic_regression_predictions(
    train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray, num_classes: int, *, l2: float
) -> np.ndarray:
    """Class predictions ``(test_rows,)`` of a model fitted on the training rows (features ``(rows, dims)``)."""
    weights, bias, mean, std = fit_logistic_regression(train_features, train_labels, num_classes, l2=l2)
    scores = ((np.asarray(test_features, dtype=np.float64) - mean) / std) @ weights + bias
    return scores.argmax(axis=1)
