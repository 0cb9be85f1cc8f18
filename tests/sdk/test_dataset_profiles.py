"""A logged dataset keeps its drift profile (a monitor's default reference), embedded and over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import mltrail
from mltrail.sdk.tracking.embedded import InProcessTransport
from mltrail.settings import Settings
from mltrail.stats.profile import DatasetProfile

if TYPE_CHECKING:
    from conftest import MakeTransport


def test_the_profile_of_a_logged_table_is_kept(
    settings: Settings, make_transport: MakeTransport, embedded: InProcessTransport
) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 500), "plan": rng.choice(["a", "b"], 500)})
    with mltrail.init(
        project="profiles", capture=False, settings=settings, transport=make_transport()
    ) as run:
        run.log_dataset(frame, name="train", role="train")
        run.flush()
    (link,) = embedded.store.list_run_datasets(run.id)
    raw = embedded.store.get_dataset_profile(link.dataset.id)
    assert raw is not None
    profile = DatasetProfile.from_bytes(raw)
    assert profile.rows == 500 and profile["age"].kind == "numeric" and profile["plan"].kind == "categorical"
