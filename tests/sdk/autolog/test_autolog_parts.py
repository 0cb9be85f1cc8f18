"""The framework-free parts of autologging: ranks, parameter flattening, patching, version ranges."""

from __future__ import annotations

import types
from typing import Any

import pytest

import mltrail
from mltrail.sdk.autolog.distributed import ProcessRank, process_rank
from mltrail.sdk.autolog.integration import parse_version
from mltrail.sdk.autolog.patching import Patches, is_patched, original_of
from mltrail.sdk.autolog.session import flat_params


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ProcessRank(0, 0, 1)),
        ({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "8"}, ProcessRank(3, 1, 8)),
        ({"LOCAL_RANK": "2"}, ProcessRank(2, 2, 1)),  # one node: the local rank is the rank
        ({"RANK": "0", "LOCAL_RANK": "1", "WORLD_SIZE": "2"}, ProcessRank(0, 1, 2)),  # RANK wins
        ({"RANK": "x", "WORLD_SIZE": "-2"}, ProcessRank(0, 0, 1)),  # nonsense is absent, never silence
    ],
)
def test_process_rank_reads_the_launchers_variables(environ: dict[str, str], expected: ProcessRank) -> None:
    assert process_rank(environ) == expected


def test_only_rank_zero_is_zero() -> None:
    assert process_rank({"RANK": "0", "WORLD_SIZE": "4"}).is_zero
    assert not process_rank({"RANK": "1", "WORLD_SIZE": "4"}).is_zero
    assert process_rank({"WORLD_SIZE": "4"}).distributed and not process_rank({}).distributed


class _Estimator:
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}


def test_flat_params_flattens_nesting_and_describes_objects() -> None:
    flat = flat_params(
        {
            "clf__C": 0.5,
            "pre__num__scale__with_mean": True,
            "clf": _Estimator(),
            "steps": [("pre", _Estimator()), ("clf", _Estimator())],
            "opt": {"lr": 0.1, "betas": (0.9, 0.99)},
            "loss": len,
            "grid": [1, 2, 3],
            "blob": object(),
        }
    )
    assert flat["clf.C"] == 0.5 and flat["pre.num.scale.with_mean"] is True
    assert flat["clf"] == "_Estimator" and flat["steps"] == "pre=_Estimator, clf=_Estimator"
    assert flat["opt.lr"] == 0.1 and flat["opt.betas"] == [0.9, 0.99]
    assert flat["loss"] == "len" and flat["grid"] == [1, 2, 3]
    assert isinstance(flat["blob"], str) and len(flat["blob"]) <= 500


def test_patches_apply_once_and_restore_the_original() -> None:
    module = types.ModuleType("fake_framework")

    def train(x: int) -> int:
        return x + 1

    module.train = train  # type: ignore[attr-defined]
    calls: list[int] = []

    def make(original: Any) -> Any:
        def wrapper(x: int) -> int:
            calls.append(x)
            return int(original(x))

        return wrapper

    patches = Patches()
    assert patches.apply(module, "train", make) is True
    assert patches.apply(module, "train", make) is False  # already wrapped: left as it is
    assert module.train(1) == 2 and calls == [1]  # one wrapper, not two
    assert is_patched(module.train) and original_of(module.train) is train
    assert module.train.__name__ == "train"  # functools.update_wrapper: signature tools still see it
    patches.restore()
    assert module.train is train and len(patches) == 0
    assert patches.apply(module, "missing", make) is False


def test_parse_version_reads_the_release_part() -> None:
    assert parse_version("1.5.2") == (1, 5, 2)
    assert parse_version("2.1.0rc1") == (2, 1, 0)
    assert parse_version("3.0.0+cpu") == (3, 0, 0)
    assert parse_version("dev") == (0,)


def test_init_group_is_a_tag_and_an_empty_group_is_refused(stored: Any) -> None:
    with mltrail.init(group="sweep-9"):
        pass
    assert stored.only_run().tags["mltrail.group"] == "sweep-9"
    with pytest.raises(mltrail.InvalidInputError, match="group"):
        mltrail.init(group=" ")
