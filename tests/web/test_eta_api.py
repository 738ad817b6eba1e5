"""GET /api/eta/accuracy through the real app: who may read it, and its shape."""

from __future__ import annotations

from center import Center


def test_the_eta_report_of_a_center_without_gps_arrivals(center: Center) -> None:
    reply = center.call("GET", "/api/eta/accuracy", params={"days": 7})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["stored"] == {
        "orders": 0,
        "median_abs_error_s": None,
        "p90_abs_error_s": None,
        "bias_s": None,
    }
    assert "class table" in body["replayed"]
    assert center.client.get("/api/eta/accuracy").status_code == 401
    assert center.call("GET", "/api/eta/accuracy", params={"days": 0}).status_code == 422
