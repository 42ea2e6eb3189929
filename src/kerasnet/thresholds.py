"""Thresholds shared by the light and the heavy modules (the command line imports this without Keras)."""

#: Weights below this in absolute value count as "near zero" in the sparsity reports.
NEAR_ZERO = 1e-3
