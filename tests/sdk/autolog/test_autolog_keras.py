"""``mltrail.keras.MltrailCallback`` with real Keras 3 on the torch backend, CPU, a model built here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Keras reads its backend once, at import: torch is the backend these machines have (no TensorFlow).
os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from mltrail.keras import MltrailCallback  # noqa: E402  (needs keras, skipped above without it)

pytestmark = [
    pytest.mark.slow,
    # Keras 3.15 on the torch backend reads its variables through numpy 2 the old way (not ours).
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    return model


def _data() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_the_callback_records_params_epoch_and_batch_metrics_and_the_model(
    tmp_path: Path, stored: Any
) -> None:
    x, y = _data()
    model = _model()
    callback = MltrailCallback(log_every_n_steps=2, save_checkpoints=True, group="keras-job")
    model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[callback])

    run = stored.only_run()
    assert run.status == "finished" and run.tags["mltrail.autolog"] == "keras"
    assert run.params["fit.epochs"] == 3 and run.params["optimizer.class"] == "Adam"
    assert run.params["optimizer.learning_rate"] == pytest.approx(0.01)
    assert run.params["model.parameters"] == model.count_params()
    for key in ("loss", "mae", "val_loss", "val_mae"):
        assert list(run.history(key).steps) == [0, 1, 2], key
    assert list(run.history("batch/loss").steps) == [2, 4, 6, 8]  # 3 batches × 3 epochs, every 2nd
    paths = {a.path for a in run.artifacts()}
    assert {"model/model.keras", "checkpoints/epoch-0.keras", "checkpoints/epoch-2.keras"} <= paths
    restored = keras.models.load_model(run.download("model/model.keras", to=tmp_path))
    assert np.allclose(restored.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), atol=1e-6)


def test_a_rank_other_than_zero_writes_nothing(stored: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "3")
    x, y = _data()
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[MltrailCallback()])
    assert stored.runs() == []


def test_an_unusable_store_is_a_warning_and_training_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLTRAIL_DIR", str(blocker / "mltrail"))
    x, y = _data()
    with caplog.at_level("WARNING", logger="mltrail"):
        history = _model().fit(x, y, epochs=2, verbose=0, callbacks=[MltrailCallback()])
    assert len(history.history["loss"]) == 2
    assert "logs nothing, no run could be started" in caplog.text
