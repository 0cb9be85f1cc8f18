"""save_model/load_model across flavors: detection, folder rules, input examples, lazy framework imports."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail.errors import ConflictError, InvalidInputError, NotFoundError
from mltrail.sdk.flavors import META_FILE, Signature, infer_signature, load_model, save_model


class Affine:
    def __init__(self, weights: list[float]) -> None:
        self.weights = np.asarray(weights)

    def predict(self, x: Any) -> Any:
        return np.asarray(x, dtype=float) @ self.weights


class Broken:
    def predict(self, x: Any) -> Any:
        raise RuntimeError("no")


def _candidates(diabetes: tuple[Any, Any]) -> list[tuple[str, Any]]:
    x, y = diabetes
    from sklearn.linear_model import Ridge

    found: list[tuple[str, Any]] = [("python", Affine([1.0] * 10))]
    if importlib.util.find_spec("skops") is not None:  # the sklearn flavor's default format
        found.append(("sklearn", Ridge().fit(x, y)))
    try:
        import xgboost

        found.append(("xgboost", xgboost.XGBRegressor(n_estimators=2).fit(x, y)))
    except ImportError:
        pass
    try:
        import lightgbm

        found.append(("lightgbm", lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(x, y)))
    except ImportError:
        pass
    return found


def test_auto_detection_picks_each_flavor(tmp_path: Path, diabetes: tuple[Any, Any]) -> None:
    x, _ = diabetes
    for i, (expected, model) in enumerate(_candidates(diabetes)):
        meta = save_model(model, tmp_path / str(i))
        assert meta.flavor == expected, (type(model), meta.flavor)
        loaded = load_model(tmp_path / str(i), trust=expected == "python")
        assert loaded.flavor == expected
        assert np.array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("model", [object(), {"predict": 1}, [1, 2], Affine, None])
def test_unsupported_objects_are_refused_naming_model(tmp_path: Path, model: object) -> None:
    with pytest.raises(InvalidInputError, match="no flavor can save") as info:
        save_model(model, tmp_path / "m")
    assert info.value.field == "model"
    assert not any(tmp_path.iterdir())


def test_folder_rules(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(ConflictError, match="not an empty folder"):
        save_model(Affine([1.0]), tmp_path / "full", format="pickle")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConflictError):
        save_model(Affine([1.0]), tmp_path / "file", format="pickle")
    (tmp_path / "empty").mkdir()
    save_model(Affine([1.0]), tmp_path / "empty", format="pickle")
    save_model(Affine([1.0]), tmp_path / "deep" / "er" / "m", format="pickle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "empty", "file", "full"]  # no staging
    with pytest.raises(NotFoundError, match=META_FILE):
        load_model(tmp_path / "full")
    with pytest.raises(NotFoundError):
        load_model(tmp_path / "nowhere")


def test_check_signature_needs_a_signature(tmp_path: Path) -> None:
    save_model(Affine([1.0, 2.0]), tmp_path / "m", format="pickle")
    with pytest.raises(InvalidInputError, match="without a signature") as info:
        load_model(tmp_path / "m", trust=True, check_signature=True)
    assert info.value.field == "check_signature"
    plain = load_model(tmp_path / "m", trust=True)
    assert plain.signature is None and plain.input_example is None
    assert np.array_equal(plain.predict([[1.0, 1.0]]), [3.0])


def test_a_given_signature_wins_and_unchecked_loads_do_not_check(tmp_path: Path) -> None:
    signature = infer_signature(np.zeros((1, 2)))
    meta = save_model(Affine([1.0, 2.0]), tmp_path / "m", signature=signature, input_example=np.ones((2, 2)))
    assert meta.signature == signature  # the example did not replace it (no outputs inferred)
    stored = json.loads((tmp_path / "m" / META_FILE).read_text())["signature"]
    assert Signature.from_dict(stored) == signature
    unchecked = load_model(tmp_path / "m", trust=True)
    assert unchecked.predict(np.ones((1, 2), dtype=int)).tolist() == [3.0]
    with pytest.raises(InvalidInputError, match="signature must be a Signature"):
        save_model(Affine([1.0]), tmp_path / "n", signature=signature.to_dict())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("example", "stored_as"),
    [
        (pd.DataFrame({"a": np.arange(150), 0: np.linspace(0, 1, 150), "s": ["x"] * 150}), "parquet"),
        ({"ids": np.arange(5), "vec": np.ones((5, 3))}, "npz"),
        ([{"a": 1, "s": "x"}, {"a": 2, "s": "y"}], "parquet"),
        (np.array(["a", "b"], dtype=object), "npy"),
        ([[1.0, 2.0], [3.0, 4.0]], "npy"),
    ],
)
def test_input_examples_are_stored_without_pickle(tmp_path: Path, example: Any, stored_as: str) -> None:
    meta = save_model(
        Affine([1.0]), tmp_path / "m", signature=infer_signature(example), input_example=example
    )
    assert meta.input_example == f"input_example.{stored_as}"
    back = load_model(tmp_path / "m", trust=True).input_example
    if isinstance(example, pd.DataFrame):
        assert len(back) == 100 and list(back.columns) == ["a", "0", "s"]  # first rows; names as str
        assert back["a"].tolist() == list(range(100))
    elif isinstance(example, dict):
        assert set(back) == {"ids", "vec"} and np.array_equal(back["vec"], example["vec"])
    elif stored_as == "parquet":
        assert back.to_dict(orient="records") == example
    else:
        assert np.asarray(back).tolist() == np.asarray(example).tolist()


def test_bad_examples_leave_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="predict failed on the input example") as info:
        save_model(Broken(), tmp_path / "m", input_example=np.ones((2, 2)))
    assert info.value.field == "input_example"
    objects = np.array([{"a": 1}, None], dtype=object)
    with pytest.raises(InvalidInputError, match="without pickle"):
        save_model(Affine([1.0]), tmp_path / "m", signature=infer_signature(objects), input_example=objects)
    assert not any(tmp_path.iterdir())


def test_frameworks_are_imported_only_for_their_models(tmp_path: Path) -> None:
    """A python-flavor save and load imports no ML framework, not even to detect the flavor."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from mltrail.sdk.flavors import load_model, save_model

        class Model:
            def predict(self, x):
                return np.asarray(x).sum(axis=1)

        save_model(Model(), {str(tmp_path / "m")!r}, format="pickle", input_example=np.ones((2, 3)))
        loaded = load_model({str(tmp_path / "m")!r}, trust=True, check_signature=True)
        assert loaded.predict(np.ones((1, 3))).tolist() == [3.0]
        heavy = {{"sklearn", "skops", "xgboost", "lightgbm", "onnx", "onnxruntime", "torch", "pandas"}}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
