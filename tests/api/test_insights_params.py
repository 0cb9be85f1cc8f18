"""The insights routes' common parameters (``project=``, ``since=``, ``until=``) are checked in the route,
after FastAPI has validated every parameter: a bad ``top=`` is reported first, as it was before they moved
into one dependency."""

from __future__ import annotations

from live_server import TestClient

API = "/api/v1/insights"


def test_a_bad_parameter_is_reported_before_a_bad_time(client: TestClient) -> None:
    both = client.get(f"{API}/cost", params={"top": 0, "since": "soon"})
    assert both.status_code == 400 and both.json()["error"]["field"] == "top", both.text
    margin = client.get(f"{API}/cadence", params={"project": "nope", "margin": 3})
    assert margin.status_code == 400 and margin.json()["error"]["field"] == "margin", margin.text
    for route in ("cost", "value", "scorecard"):
        bad = client.get(f"{API}/{route}", params={"since": "soon"})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "since", (route, bad.text)
        late = client.get(f"{API}/{route}", params={"since": "1d", "until": "0"})
        assert late.status_code == 400 and late.json()["error"]["field"] == "until", (route, late.text)
