"""The rejection benchmark's expected-cost formula, against the adaptive schedule it models."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_rejection import expected_samples


def test_expected_samples_bounds_and_middle():
    assert expected_samples(1.0) == 2  # the first round always succeeds
    assert expected_samples(0.0) == 16  # every round runs, up to the cap
    # accuracy 0.5: 2 + 2 * 0.25 + 2 * 0.25**2 + ... over 8 rounds of 2
    assert expected_samples(0.5) == pytest.approx(sum(2 * 0.25**k for k in range(8)))
    assert expected_samples(0.3, max_samples=5, initial_samples=2) == pytest.approx(
        2 + 2 * 0.49 + 1 * 0.49**2
    )
