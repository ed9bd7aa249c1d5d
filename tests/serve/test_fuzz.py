"""Property-based requests (hypothesis) against every ``/v1`` endpoint: never a 5xx, always the
JSON error shape. Schemathesis over the served schema: ``test_schemathesis.py``."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENDPOINTS = ("/v1/score", "/v1/compare", "/v1/explain", "/v1/suggest")
junk = st.binary(max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)


def check(res) -> None:
    assert res.status_code < 500, res.text
    if res.status_code >= 400:
        body = res.json()
        assert set(body) == {"status", "error", "message"} and body["status"] == res.status_code


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(ENDPOINTS),
    fields=st.dictionaries(st.sampled_from(["image", "a", "b", "x"]), junk, max_size=3),
    form=st.dictionaries(
        st.sampled_from(["model", "top", "strength"]), st.text(max_size=12), max_size=3
    ),
)
def test_random_multipart_never_5xx(client, path, fields, form):
    files = {k: (f"{k}.jpg", v) for k, v in fields.items()}
    check(client.post(path, files=files or None, data=form or None))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(ENDPOINTS), body=json_values)
def test_random_json_never_5xx(client, path, body):
    check(client.post(path, content=json.dumps(body), headers={"content-type": "application/json"}))
