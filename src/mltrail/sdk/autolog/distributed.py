"""Which process of a distributed job this is, from the variables torchrun, Lightning and accelerate set."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ProcessRank", "process_rank"]


@dataclass(frozen=True)
class ProcessRank:
    """``rank`` among ``world_size`` processes (0 of 1 outside a distributed job)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_zero(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def process_rank(environ: Mapping[str, str] | None = None) -> ProcessRank:
    """The global rank is ``RANK``; on a single node ``LOCAL_RANK`` alone is enough (it is then the global
    rank too). A value that is not an integer counts as absent, so a stray variable never silences logging.
    """
    env = os.environ if environ is None else environ
    local = _int(env.get("LOCAL_RANK"))
    rank = _int(env.get("RANK"))
    world = _int(env.get("WORLD_SIZE"))
    if rank is None:
        rank = local if local is not None else 0
    return ProcessRank(rank=rank, local_rank=local if local is not None else 0, world_size=max(world or 1, 1))


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None
