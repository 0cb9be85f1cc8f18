"""``mltrail.transformers.MltrailCallback`` with a real ``Trainer`` on the CPU and a tiny BERT built from a
config in the test (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from mltrail.transformers import MltrailCallback  # noqa: E402  (needs transformers, skipped above)

pytestmark = pytest.mark.slow


class _Tokens(torch.utils.data.Dataset):  # type: ignore[misc]
    """16 sequences of 8 token ids with a label each, from a seeded generator."""

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (16, 8), generator=generator)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {
            "input_ids": self.ids[i],
            "attention_mask": torch.ones(8, dtype=torch.long),
            "labels": self.labels[i],
        }


def _model() -> Any:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    return transformers.BertForSequenceClassification(config)


def test_the_callback_records_arguments_model_config_logs_checkpoints_and_the_model(
    tmp_path: Path, stored: Any
) -> None:
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=2,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=8,
        learning_rate=1e-3,
        logging_steps=2,
        eval_strategy="epoch",
        save_strategy="epoch",
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    data = _Tokens()
    callback = MltrailCallback(log_checkpoints=True, group="hf-job")
    trainer = transformers.Trainer(
        model=_model(), args=args, train_dataset=data, eval_dataset=data, callbacks=[callback]
    )
    trainer.train()

    run = stored.only_run()
    assert run.status == "finished" and run.tags["mltrail.autolog"] == "transformers"
    assert run.tags["mltrail.group"] == "hf-job"
    assert run.params["args.learning_rate"] == 1e-3 and run.params["args.num_train_epochs"] == 2
    assert run.params["model.hidden_size"] == 16 and run.params["model.model_type"] == "bert"
    assert list(run.history("loss").steps) == [2, 4, 6, 8]  # 8 steps, logged every 2
    assert list(run.history("eval_loss").steps) == [4, 8]  # once per epoch
    assert run.summary["global_step"] == 8
    paths = {a.path for a in run.artifacts()}
    assert {
        "checkpoints/checkpoint-4/model.safetensors",
        "checkpoints/checkpoint-8/model.safetensors",
    } <= paths
    assert {"model/config.json", "model/model.safetensors"} <= paths
    folder = run.download("model", to=tmp_path / "back")
    restored = transformers.BertForSequenceClassification.from_pretrained(folder)
    batch = data[0]
    with torch.no_grad():
        expected = trainer.model.eval()(input_ids=batch["input_ids"][None]).logits
        got = restored.eval()(input_ids=batch["input_ids"][None]).logits
    assert torch.allclose(expected, got)
