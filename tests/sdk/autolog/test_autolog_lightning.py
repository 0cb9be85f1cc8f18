"""``MltrailLogger`` with real PyTorch Lightning on the CPU: a tiny model built in the test, no downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pl = pytest.importorskip("lightning.pytorch")

from mltrail.lightning import MltrailLogger  # noqa: E402  (needs lightning, skipped above without it)

pytestmark = [
    pytest.mark.slow,
    # Lightning 2.6 against torch 2.13: its own pytree helper uses a name torch deprecates (not ours).
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"),
]


class TinyRegressor(pl.LightningModule):  # type: ignore[misc]
    def __init__(self, hidden: int = 8, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loaders() -> tuple[Any, Any]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=generator)
    y = x.sum(dim=1, keepdim=True)
    data = torch.utils.data.TensorDataset(x, y)
    return (
        torch.utils.data.DataLoader(data, batch_size=16),
        torch.utils.data.DataLoader(data, batch_size=32),
    )


def _trainer(tmp_path: Path, logger: Any, epochs: int = 3) -> Any:
    return pl.Trainer(
        max_epochs=epochs,
        logger=logger,
        accelerator="cpu",
        devices=1,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )


def test_the_logger_records_hyperparameters_step_and_epoch_metrics_and_checkpoints(
    tmp_path: Path, stored: Any
) -> None:
    torch.manual_seed(0)
    train, val = _loaders()
    logger = MltrailLogger(group="lightning-job", log_model=True)
    _trainer(tmp_path, logger).fit(TinyRegressor(hidden=8, lr=0.05), train, val)

    run = stored.only_run()
    assert run.status == "finished" and run.tags["mltrail.autolog"] == "lightning"
    assert run.tags["mltrail.group"] == "lightning-job"
    assert run.params["hidden"] == 8 and run.params["lr"] == 0.05
    steps = list(run.history("train_loss_step").steps)
    assert len(steps) == 12 and steps == sorted(steps)  # 4 batches × 3 epochs, at the global step
    assert len(run.history("train_loss_epoch").steps) == 3
    assert len(run.history("val_loss").steps) == 3
    assert run.metrics["epoch"] == 2
    checkpoints = [a.path for a in run.artifacts("checkpoints")]
    assert checkpoints and all(p.endswith(".ckpt") for p in checkpoints)
    assert run.summary["best_checkpoint"] in checkpoints
    state = torch.load(run.download(checkpoints[0], to=tmp_path / "back"), weights_only=False)
    assert "net.0.weight" in state["state_dict"]


def test_the_logger_writes_into_an_active_run_and_leaves_it_open(tmp_path: Path, stored: Any) -> None:
    import mltrail

    train, val = _loaders()
    with mltrail.init(name="outer") as run:
        _trainer(tmp_path, MltrailLogger(), epochs=1).fit(TinyRegressor(), train, val)
        assert mltrail.active_run() is run and run.status == "running"
    only = stored.only_run()
    assert only.name == "outer" and "train_loss_step" in only.metrics and not only.artifacts("checkpoints")


def test_a_rank_other_than_zero_writes_nothing(
    tmp_path: Path, stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    logger = MltrailLogger()
    logger.log_metrics({"loss": 1.0}, step=0)
    logger.log_hyperparams({"lr": 0.1})
    logger.finalize("success")
    assert stored.runs() == []
