"""Models that misbehave, for the gateway's fault tests: importable by name in the server process (the
tests put this folder on its PYTHONPATH), since they are saved with pickle.

Registration runs ``predict`` on the input example (5 rows) to infer the output signature: these models
answer that call and misbehave on any other batch size, which the tests never send.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["EXAMPLE_ROWS", "Constant", "Hanging", "Raising"]

EXAMPLE_ROWS = 5


class Raising:
    def predict(self, x: Any) -> Any:
        if len(x) == EXAMPLE_ROWS:
            return [0] * len(x)
        raise RuntimeError("this model is broken")


class Hanging:
    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds

    def predict(self, x: Any) -> Any:
        if len(x) != EXAMPLE_ROWS:
            time.sleep(self.seconds)
        return [0] * len(x)


class Constant:
    def __init__(self, value: Any) -> None:
        self.value = value

    def predict(self, x: Any) -> Any:
        return [self.value] * len(x)
