"""``LoadedModel``: a loaded model of any flavor behind one ``predict``."""

from __future__ import annotations

from typing import Any

from mltrail.sdk.flavors.base import Flavor
from mltrail.sdk.flavors.example import read_example
from mltrail.sdk.flavors.meta import ModelMeta
from mltrail.sdk.flavors.signature import Signature

__all__ = ["LoadedModel"]


class LoadedModel:
    """A model read back by ``load_model``.

    ``raw`` is the native object (an estimator, a booster, an ``OnnxModel``, your own object); ``predict``
    calls it the same way for every flavor, checking the input against the signature first when the
    model was loaded with ``check_signature=True``.
    """

    def __init__(
        self,
        raw: Any,
        meta: ModelMeta,
        flavor: Flavor,
        *,
        check_signature: bool = False,
        example: bytes | None = None,
    ) -> None:
        self.raw = raw
        self.meta = meta
        self._flavor = flavor
        self._check = check_signature
        self._example = example

    @property
    def signature(self) -> Signature | None:
        return self.meta.signature

    @property
    def flavor(self) -> str:
        return self.meta.flavor

    @property
    def digest(self) -> str:
        """The sha256 of the model's ``mltrail-model.json``, which pins every file of the model."""
        return self.meta.digest

    @property
    def input_example(self) -> Any:
        """The stored input example (its first rows), or None when none was saved."""
        if self._example is None or self.meta.input_example is None:
            return None
        return read_example(self.meta.input_example, self._example)

    def predict(self, x: Any) -> Any:
        """The model's prediction for ``x``; ``InvalidInputError`` naming the column if it fails the check."""
        if self._check and self.meta.signature is not None:
            x = self.meta.signature.check_input(x)
        return self._flavor.predict(self.raw, x)

    def __repr__(self) -> str:
        return (
            f"LoadedModel(flavor={self.meta.flavor!r}, format={self.meta.format!r}, "
            f"model_class={self.meta.model_class!r}, digest={self.meta.digest[:12]!r})"
        )
