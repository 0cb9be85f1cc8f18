"""Which samples got worse: two predictions tables joined by id, through the services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mltrail.errors import InvalidInputError
from mltrail.services.container import Services
from mltrail.services.tracking.table_data import predictions_table, to_parquet
from mltrail.settings import Settings


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services(Settings(home=tmp_path / "store"))
    yield built
    built.close()


def _run(services: Services, name: str) -> str:
    run_id = name * 8
    services.tracking.start_run(
        run_id=run_id, project="p", name=name, user=None, config={}, tags={}, context={}, start_time=1.0
    )
    return run_id


def test_right_to_wrong_largest_changes_confusion_and_slices(services: Services) -> None:
    rng = np.random.default_rng(11)
    n = 3_000
    city = rng.choice(["lyon", "paris", "nice"], n)
    age = rng.integers(18, 80, n).astype(float)
    truth = rng.choice(["cat", "dog"], n)
    other = np.where(truth == "cat", "dog", "cat")
    wrong_a = rng.random(n) < 0.1
    wrong_b = wrong_a | ((city == "lyon") & (rng.random(n) < 0.4))
    wrong_b[:3] = [True, True, False]
    wrong_a[:3] = [False, True, True]
    ids = np.arange(n)
    proba_a = np.where(wrong_a, 0.3, 0.8)
    proba_b = np.where(wrong_b, 0.3, 0.8)
    a, b = _run(services, "aaaa"), _run(services, "bbbb")
    pred_a, pred_b = np.where(wrong_a, other, truth), np.where(wrong_b, other, truth)
    # proba is the positive class's ("dog", the larger label)
    dog_a = np.where(pred_a == "dog", proba_a.clip(0.5), 1 - proba_a.clip(0.5))
    dog_b = np.where(pred_b == "dog", proba_b.clip(0.5), 1 - proba_b.clip(0.5))
    kept = slice(0, n - 5)  # run a lacks the last 5 ids; run b has 7 ids run a never saw
    services.tables.log(
        a,
        "val",
        to_parquet(
            predictions_table(
                ids[kept], truth[kept], pred_a[kept], dog_a[kept], {"city": city[kept], "age": age[kept]}
            )
        ),
        kind="predictions",
    )
    extra = np.arange(n, n + 7)
    services.tables.log(
        b,
        "val",
        to_parquet(
            predictions_table(
                np.r_[ids, extra],
                np.r_[truth, truth[:7]],
                np.r_[pred_b, pred_b[:7]],
                np.r_[dog_b, dog_b[:7]],
                {"city": np.r_[city, city[:7]], "age": np.r_[age, age[:7]]},
            )
        ),
        kind="predictions",
    )
    found = services.samples.compare(a, b, "val", limit=5, min_rows=20)
    assert (found["matched"], found["only_a"], found["only_b"]) == (n - 5, 0, 12)
    worse = int((~wrong_a[kept] & wrong_b[kept]).sum())
    better = int((wrong_a[kept] & ~wrong_b[kept]).sum())
    assert found["right_to_wrong"]["count"] == worse and found["wrong_to_right"]["count"] == better
    assert found["right_to_wrong"]["rows"][0]["id"] == 0
    assert found["wrong_to_right"]["rows"][0] == {
        "id": 2,
        "y_true": truth[2],
        "y_pred_a": other[2],
        "y_pred_b": truth[2],
    }
    assert found["loss"] == "log_loss" and len(found["largest_changes"]) == 5
    assert all(c["change"] > 0 for c in found["largest_changes"])
    # right with probability 0.8 for the truth, then wrong with 0.5: log loss from 0.223 to 0.693
    top = found["largest_changes"][0]
    assert top["loss_a"] == pytest.approx(-np.log(0.8)) and top["loss_b"] == pytest.approx(np.log(2))
    change = np.array(found["confusion"]["change"])
    assert change.sum() == 0 and np.trace(change) == better - worse
    assert found["slices"][0]["slice"] == {"city": "lyon"}
    assert all(len(s["slice"]) == 1 for s in found["slices"])  # no pair says more than its parts here
    assert found["slices"][0]["z"] > 5 and found["slices"][0]["rows"] == int((city[kept] == "lyon").sum())
    assert found["slice_columns"] == ["city", "age"]
    second = services.samples.compare(a, b, "val", limit=5, offset=5, slices=["age"], pairs=False)
    listed = [r["id"] for r in found["right_to_wrong"]["rows"] + second["right_to_wrong"]["rows"]]
    assert listed == np.flatnonzero(~wrong_a[kept] & wrong_b[kept])[:10].tolist()
    assert all(set(s["slice"]) == {"age"} for s in second["slices"])


def test_regression_and_mismatched_tables(services: Services) -> None:
    a, b = _run(services, "aaaa"), _run(services, "bbbb")
    truth = np.linspace(0, 10, 200)
    services.tables.log(
        a, "val", to_parquet(predictions_table(np.arange(200), truth, truth + 0.1)), kind="predictions"
    )
    worse = truth + np.where(np.arange(200) < 100, 2.0, 0.1)
    plan = np.where(np.arange(200) < 100, "old", "new")
    table = predictions_table(np.arange(200), truth, worse, features={"plan": plan})
    services.tables.log(b, "val", to_parquet(table), kind="predictions")
    found = services.samples.compare(a, b, "val")
    assert found["task"] == "regression" and found["loss"] == "absolute_error"
    assert found["error_a"] == pytest.approx(0.1) and found["error_b"] == pytest.approx(1.05)
    assert found["slices"][0]["slice"] == {"plan": "old"} and "right_to_wrong" not in found
    services.tables.log(a, "plain", to_parquet(table))
    with pytest.raises(InvalidInputError, match="plain table") as plain:
        services.samples.compare(a, b, "plain")
    assert plain.value.field == "table"
    services.tables.log(a, "cls", to_parquet(predictions_table([1], [1], [1])), kind="predictions")
    services.tables.log(b, "cls", to_parquet(predictions_table([1], [0.5], [0.25])), kind="predictions")
    with pytest.raises(InvalidInputError, match="cannot be compared"):
        services.samples.compare(a, b, "cls")
    with pytest.raises(InvalidInputError) as bad:
        services.samples.compare(a, b, "val", slices=["nope"])
    assert bad.value.field == "slices"


def _log_predictions(
    services: Services, run: str, order: np.ndarray, columns: dict[str, np.ndarray], scale: int = 1
) -> None:
    """Rows in ``order``; ids are row numbers times ``scale`` (a wide scale: ids spread too thinly for the
    join by value, joined by hashing)."""
    features = {name: values[order] for name, values in columns.items() if name not in ("truth", "pred")}
    table = predictions_table(
        order * scale, columns["truth"][order], columns["pred"][order], features=features
    )
    # 256-row groups: the text column comes back in several chunks, each with its own dictionary
    services.tables.log(run, "val", to_parquet(table, least_group_rows=256), kind="predictions")


def test_same_ids_in_one_order_or_shuffled_give_the_same_figures(services: Services) -> None:
    """Both tables in the same id order take a path without the hash join; a text feature with missing
    values read as dictionaries chunk by chunk, and a numeric one with NaN, cut the same way either path."""
    rng = np.random.default_rng(5)
    n = 2_000
    truth = rng.integers(0, 3, n)
    city = rng.choice(np.array(["lyon", "paris", "nice", None], dtype=object), n)
    score = np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n))
    pred_a = np.where(rng.random(n) < 0.1, (truth + 1) % 3, truth)
    pred_b = np.where((city == "lyon") & (rng.random(n) < 0.5), (truth + 2) % 3, pred_a)
    a, b, shuffled = _run(services, "aaaa"), _run(services, "bbbb"), _run(services, "cccc")
    same = np.arange(n)
    _log_predictions(services, a, same, {"truth": truth, "pred": pred_a, "city": city, "score": score})
    columns_b = {"truth": truth, "pred": pred_b, "city": city, "score": score}
    _log_predictions(services, b, same, columns_b)
    _log_predictions(services, shuffled, rng.permutation(n), columns_b)
    wide_a, wide_b = _run(services, "dddd"), _run(services, "eeee")
    _log_predictions(
        services, wide_a, same, {"truth": truth, "pred": pred_a, "city": city, "score": score}, 10**9
    )
    _log_predictions(services, wide_b, rng.permutation(n), columns_b, 10**9)
    ordered = services.samples.compare(a, b, "val", limit=1_000, min_rows=5, top=100)
    joined = services.samples.compare(a, shuffled, "val", limit=1_000, min_rows=5, top=100)
    hashed = services.samples.compare(wide_a, wide_b, "val", limit=1_000, min_rows=5, top=100)
    assert ordered["matched"] == joined["matched"] == hashed["matched"] == n
    for key in ("error_a", "error_b", "confusion", "slices", "slice_columns", "label_changed"):
        assert ordered[key] == joined[key] == hashed[key], key
    for listing in ("right_to_wrong", "wrong_to_right"):
        assert ordered[listing]["count"] == joined[listing]["count"]
        assert sorted(r["id"] for r in ordered[listing]["rows"]) == sorted(
            r["id"] for r in joined[listing]["rows"]
        )
    assert ordered["slices"][0]["slice"] == {"city": "lyon"}
    assert any(
        "score" in s["slice"] for s in services.samples.compare(a, b, "val", min_rows=1, top=500)["slices"]
    )


def test_ids_near_the_ends_of_64_bits_are_joined(services: Services) -> None:
    """Close unsigned ids above 2^63, and negative ones: a narrow span, but offsets from them would overflow
    int64, so they are joined by hashing."""
    a, b = _run(services, "aaaa"), _run(services, "bbbb")
    top = 2**64 - 1
    for run, ids in ((a, [top, top - 1, top - 2]), (b, [top - 2, top, top - 1])):
        table = predictions_table(np.array(ids, dtype=np.uint64), [1, 0, 1], [1, 1, 1])
        services.tables.log(run, "val", to_parquet(table), kind="predictions")
    found = services.samples.compare(a, b, "val")
    assert found["matched"] == 3 and found["right_to_wrong"]["count"] == 0
    c, d = _run(services, "cccc"), _run(services, "dddd")
    low = -(2**63)
    for run, ids in ((c, [low, low + 1, low + 2]), (d, [low + 2, low, low + 1])):
        table = predictions_table(np.array(ids, dtype=np.int64), [1, 0, 1], [1, 0, 0])
        services.tables.log(run, "val", to_parquet(table), kind="predictions")
    assert services.samples.compare(c, d, "val")["matched"] == 3


def test_classes_recorded_when_logged_are_the_classes_of_the_labels() -> None:
    """The comparison takes the classes from the two summaries instead of scanning four label columns:
    the same values in the same order as the scan, for integer and text labels."""
    import pyarrow as pa

    from mltrail.services.tracking.predictions import class_values, recorded_class_values

    cases = [
        (pa.array([5, -3, 12]), pa.array([5, 5, 0]), pa.array([-3, 7, 7]), pa.array([100, 5, 5])),
        (
            pa.array(["zèbre", "Zoo", "éclair"]),
            pa.array(["ant", "zèbre", "Zoo"]),
            pa.array(["日本", "ant", "éclair"]),
            pa.array(["ant", "ant", "😀"]),
        ),
    ]
    for true_a, pred_a, true_b, pred_b in cases:
        summaries = [
            {"classes": [str(v) for v in class_values(true_a, pred_a).to_pylist()]},
            {"classes": [str(v) for v in class_values(true_b, pred_b).to_pylist()]},
        ]
        recorded = recorded_class_values(summaries, true_b.type)
        assert recorded is not None
        assert recorded.equals(class_values(true_b, pred_b, true_a, pred_a))
    assert recorded_class_values([{"classes": ["1.5"]}], pa.float64()) is None  # other types: scanned
    assert recorded_class_values([{"classes": ["07", "7"]}], pa.int64()) is None
    assert recorded_class_values([{"roles": {}}], pa.int64()) is None  # a summary without classes


def test_figures_from_recorded_classes_equal_those_from_the_labels(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Labels that are not 0..k−1, a class only run a predicts, and probabilities with NaN and infinities:
    the comparison gives the same figures whether the classes come from the summaries or the labels."""
    import mltrail.services.tracking.samples as samples

    rng = np.random.default_rng(23)
    n = 2_000
    truth = rng.choice([-1, 4, 9], n)
    pred_a = np.where(rng.random(n) < 0.2, 17, truth)  # 17: a class only run a predicts
    pred_b = np.where(rng.random(n) < 0.3, rng.choice([-1, 4, 9], n), truth)
    a, b = _run(services, "aaaa"), _run(services, "bbbb")
    for run, pred in ((a, pred_a), (b, pred_b)):
        proba = rng.random((n, 1))
        proba[:5] = np.nan
        proba[5:10] = np.inf
        proba[10:15] = -np.inf
        table = predictions_table(np.arange(n), truth, pred, proba={"9": proba[:, 0]}, task="classification")
        services.tables.log(run, "val", to_parquet(table), kind="predictions")
    recorded = services.samples.compare(a, b, "val", limit=50, min_rows=1, top=100)
    monkeypatch.setattr(samples, "recorded_class_values", lambda *_: None)
    scanned = services.samples.compare(a, b, "val", limit=50, min_rows=1, top=100)
    assert recorded == scanned
    assert recorded["confusion"]["classes"] == ["-1", "4", "9", "17"]


def test_log_loss_of_many_classes_and_infinite_probabilities() -> None:
    """More classes than np.choose takes are gathered one class at a time; NaN counts as 0 and infinities
    are clipped, as the clipped per-row log loss always did."""
    from mltrail.services.tracking.samples import _log_loss
    from mltrail.stats.evaluation import EPS

    rng = np.random.default_rng(29)
    n = 1_000
    for k in (2, 3, 40):
        truth = rng.integers(0, k, n)
        proba = {c: rng.random(n) for c in range(k) if c != 1 or k == 2}  # k > 2: class 1 has no column
        proba[0][:3] = [np.nan, np.inf, -np.inf]
        expected = np.zeros(n)
        for c, column in proba.items():
            expected = np.where(truth == c, column, expected)
        expected = -np.log(np.clip(np.nan_to_num(expected, nan=0.0), EPS, 1.0))
        assert np.array_equal(_log_loss(truth, proba, None, k), expected)
    single = {1: np.array([0.9, 0.2, np.nan])}  # a binary table's one column: class 0 is its complement
    loss = _log_loss(np.array([0, 1, 0]), single, None, 2)
    assert np.allclose(loss, [-np.log(0.1), -np.log(0.2), -np.log(EPS)])


def test_top_rises_are_the_largest_positive_changes_ties_by_row() -> None:
    """The rows whose loss rose most, found from a sample's threshold, are exactly those of a full sort:
    with NaN, ties at the boundary, few positive values, or positive values only where the sample is thin."""
    from mltrail.services.tracking.samples import _top_rises

    rng = np.random.default_rng(31)
    n = 300_000
    cases = {
        "continuous": rng.normal(size=n),
        "ties": rng.integers(-3, 4, n).astype(float),
        "nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "few positive": np.where(rng.random(n) < 1e-4, 1.0, -1.0),
        "none positive": -rng.random(n),
        "clustered": np.concatenate([-np.ones(n - 50), rng.random(50) + 0.5]),
        "tiny": np.array([0.5, np.nan, 0.5, -1.0, 2.0]),
    }
    for name, change in cases.items():
        positive = np.flatnonzero(change > 0)
        expected = positive[np.lexsort((positive, -change[positive]))]
        for want in (1, 20, 1_000, 10**6):
            assert np.array_equal(_top_rises(change, want), expected[:want]), (name, want)
