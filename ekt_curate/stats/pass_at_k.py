"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large Language
Models Trained on Code", in its numerically stable product form.

For a task with n samples of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the
chance that k samples drawn without replacement contain a pass. The ratio of
binomials overflows for large n, so it is computed as
    1 - prod_{i = n-c+1}^{n} (1 - k / i).
It is defined only for k <= n; a larger k is "not computable" for that task.
"""

from __future__ import annotations

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float | None:
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        return None
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: list[tuple[int, int]], k: int) -> tuple[float | None, int]:
    """(mean over tasks, number of tasks where k > n). The mean is None if any task
    cannot be estimated: averaging over only the tasks with enough samples would be biased."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    missing = sum(value is None for value in values)
    if missing or not values:
        return None, missing
    return float(np.mean(values)), 0
