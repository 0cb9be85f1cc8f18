"""``COLUMN OP LITERAL`` read once (mltrail/comparisons.py) for monitor segments and deployment conditions,
each keeping its own operators, checks and field names."""

from __future__ import annotations

import pytest

from mltrail.comparisons import parse_literal, split_comparison
from mltrail.entities.deployment_spec import parse_condition
from mltrail.errors import InvalidInputError
from mltrail.services.monitoring.segments import parse_segment


def test_a_comparison_is_split_and_its_literal_read() -> None:
    assert split_comparison(' plan == "pro" ') == ("plan", "==", '"pro"')
    assert split_comparison("age<25") == ("age", "<", "25")
    assert split_comparison("age") is None and split_comparison(3) is None
    assert parse_literal("'FR'") == "FR" and parse_literal("1e4") == 10000.0
    with pytest.raises(ValueError, match="not a number or a quoted string"):
        parse_literal("FR")


def test_segments_take_a_single_equals_and_name_their_field() -> None:
    assert parse_segment("country = 'DE'").value == "DE"
    assert parse_segment("age < 25").op == "<"
    with pytest.raises(InvalidInputError, match="segment 'age < young'") as info:
        parse_segment("age < young")
    assert info.value.field == "segments"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount = 3", "a condition is COLUMN OP VALUE"),
        ("amount > big", "not a number or a quoted string"),
        ("amount > inf", "not a finite number"),
        ("country < 'FR'", "only == and != compare text"),
    ],
)
def test_conditions_refuse_what_segments_allow(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        parse_condition(text, "guards.output[0].when")
    assert info.value.field == "guards.output[0].when"
    assert parse_condition("amount > 10000").value == 10000.0
