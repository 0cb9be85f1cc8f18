"""``EvidenceCollector`` without a process: counts per variant and minute, a failed send kept and sent
again whole, past windows let go once sent, shadow agreement for classes and numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from mltrail.entities import EvidenceWindow
from mltrail.errors import PermissionDeniedError, StoreError
from mltrail.serving.evidence import EvidenceCollector


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Sink:
    def __init__(self) -> None:
        self.sent: list[list[EvidenceWindow]] = []
        self.down = False

    def __call__(self, windows: Sequence[EvidenceWindow]) -> None:
        if self.down:
            raise ConnectionError("the store is away")
        self.sent.append(list(windows))


def _collector(clock: Clock, sink: Sink) -> EvidenceCollector:
    # interval far beyond the test: sends happen only when the test calls send_now
    return EvidenceCollector("dep", 3, sink, interval=3600, clock=clock, replica="r1")


def test_requests_are_counted_per_variant_and_minute_and_resent_whole_after_a_failure() -> None:
    clock, sink = Clock(1200.0), Sink()
    collector = _collector(clock, sink)
    try:
        collector.request("primary", "churn:1", 2, {0: "error"}, {0: "constant"}, [["input:x"], []], 0.002)
        collector.request("primary", "churn:1", 1, {0: "input"}, {0: "constant"}, [["input:y"]], 0.004)
        collector.request("canary", "churn:2", 1, {}, {}, [[]], 0.003)
        sink.down = True
        assert not collector.send_now()
        clock.now = 1265.0  # the next minute
        collector.request("primary", "churn:1", 1, {}, {}, [[]], 0.001)
        sink.down = False
        assert collector.send_now()
        (windows,) = sink.sent
        assert [(w.start, w.spec_version, w.replica) for w in windows] == [
            (1200.0, 3, "r1"),
            (1260.0, 3, "r1"),
        ]
        canary, primary = windows[0].counts
        assert (primary.variant, primary.requests, primary.rows, primary.errors) == ("primary", 2, 3, 1)
        assert (primary.fallbacks, primary.guarded) == (2, 2)  # an input guard's fallback is no error
        assert canary.model == "churn:2" and canary.requests == 1
        # The past minute was sent whole: it is let go; the current one is sent again with what follows.
        collector.request("primary", "churn:1", 1, {}, {}, [[]], 0.001)
        collector.send_now()
        assert [(w.start, w.counts[0].requests) for w in sink.sent[-1]] == [(1260.0, 2)]
        assert collector.send_now() and len(sink.sent) == 2  # nothing changed: nothing sent
    finally:
        collector.close()


def test_a_request_no_fallback_answered_counts_its_errors_but_no_fallback() -> None:
    clock, sink = Clock(60.0), Sink()
    collector = _collector(clock, sink)
    collector.request("primary", "broken:1", 1, {0: "timeout"}, {}, [[]], 0.2, answered=False)
    collector.close()  # sends what is left
    (counts,) = sink.sent[0][0].counts
    assert (counts.requests, counts.errors, counts.fallbacks) == (1, 1, 0)


@pytest.mark.parametrize(
    ("answers", "caller", "agreed", "numeric", "abs_diff"),
    [
        ([1, 0, 1], [1, 1, 1], 2, 0, 0.0),
        (["a", "b"], ["a", "a"], 1, 0, 0.0),
        ([np.float64(1.5), 2.0, float("nan")], [1.0, 2.0, 3.0], 1, 2, 0.5),
        ([np.array([1, 2])], [np.array([1, 2])], 0, 0, 0.0),  # not comparable: not equal, never a crash
    ],
)
def test_shadow_agreement(
    answers: list[object], caller: list[object], agreed: int, numeric: int, abs_diff: float
) -> None:
    clock, sink = Clock(60.0), Sink()
    collector = _collector(clock, sink)
    shadow = collector.for_shadow("shadow[1]", "churn:7")
    shadow.answered(answers, caller, 0.001)
    shadow.failed(4, 0.5)
    shadow.dropped(2)
    collector.close()
    (counts,) = sink.sent[0][0].counts
    assert (counts.variant, counts.model) == ("shadow[1]", "churn:7")
    assert (counts.requests, counts.rows, counts.errors, counts.dropped) == (2, len(answers) + 4, 4, 2)
    assert (counts.compared, counts.agreed, counts.numeric) == (len(answers), agreed, numeric)
    assert counts.abs_diff == pytest.approx(abs_diff)


def test_a_refused_send_is_given_up_while_an_unavailable_store_is_retried() -> None:
    clock = Clock(120.0)
    refusals: list[Exception] = [StoreError("the database is busy"), PermissionDeniedError("a viewer key")]
    sent: list[Sequence[EvidenceWindow]] = []

    def sink(windows: Sequence[EvidenceWindow]) -> None:
        if refusals:
            raise refusals.pop(0)
        sent.append(windows)

    collector = EvidenceCollector("dep", 1, sink, interval=3600, clock=clock, replica="r1")
    collector.request("primary", "churn:1", 1, {}, {}, [[]], 0.001)
    assert not collector.send_now() and collector.sends_failed == 1  # 503: kept
    assert not collector.send_now() and collector.rejected == 1  # 403: given up, not resent
    clock.now = 200.0
    assert collector.send_now() and sent == []  # nothing left to send
    collector.request("primary", "churn:1", 1, {}, {}, [[]], 0.001)
    collector.close()
    assert [w.start for w in sent[0]] == [180.0]
