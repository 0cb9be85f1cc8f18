"""Channel specs have one parser and one redaction: another spelling of a spec cannot show its secret."""

from __future__ import annotations

import pytest

from mltrail.channels import parse_channel, redact_channel
from mltrail.errors import InvalidInputError

SECRET = "T000/B000/XXXXSECRETXXXX"


@pytest.mark.parametrize(
    "spec",
    [
        f"slack:https://hooks.slack.com/services/{SECRET}",
        f"Slack:https://hooks.slack.com/services/{SECRET}",
        f"SLACK:https://hooks.slack.com/services/{SECRET}",
        f"  slack:https://hooks.slack.com/services/{SECRET}",
        f"slack:  https://hooks.slack.com/services/{SECRET}",
    ],
)
def test_every_spelling_of_a_slack_spec_is_redacted(spec: str) -> None:
    shown = redact_channel(spec)
    assert SECRET not in shown and "XXXX" not in shown
    assert shown == "slack:https://hooks.slack.com/…"
    assert parse_channel(spec).spec == f"slack:https://hooks.slack.com/services/{SECRET}"


@pytest.mark.parametrize(
    "spec",
    [
        "Webhook:https://user:pw@example.com/hook?token=abc",
        " webhook:https://user:pw@example.com/hook?token=abc",
    ],
)
def test_a_webhook_spec_keeps_its_path_but_not_its_credentials(spec: str) -> None:
    shown = redact_channel(spec)
    assert shown == "webhook:https://example.com/hook"
    assert "pw" not in shown and "token" not in shown


def test_an_unreadable_spec_shows_only_its_kind() -> None:
    assert redact_channel(f"slack:not a url {SECRET}") == "slack:(unreadable)"
    assert redact_channel(SECRET) == f"{SECRET[:16].lower()}:(unreadable)" or SECRET not in redact_channel(
        SECRET
    )
    with pytest.raises(InvalidInputError):
        parse_channel("pager:123")


def test_email_specs_are_canonical() -> None:
    assert (
        parse_channel(" Email: ana@example.com , bob@example.com ").spec
        == "email:ana@example.com,bob@example.com"
    )
