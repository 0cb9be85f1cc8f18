"""Fixtures for the flavor tests: scikit-learn's bundled datasets, loaded once per session."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    """Iris as (DataFrame of 4 float columns, integer target Series)."""
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_iris(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[Any, Any]:
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


@pytest.fixture(scope="session")
def diabetes() -> tuple[Any, Any]:
    """Diabetes as numpy arrays (float64 features, float target)."""
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_diabetes(return_X_y=True)
    return x, y
