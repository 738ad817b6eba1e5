from __future__ import annotations

import logging

from jiaoxun.web.logs import RedactSecrets, redact


def test_secrets_in_query_strings_are_redacted() -> None:
    path = "/api/osmand?id=s3cr3t&lat=45.7&key=k3y&timestamp=1"
    assert redact(path) == "/api/osmand?id=***&lat=45.7&key=***&timestamp=1"
    assert redact("/api/events?ticket=abc&moves_of=3") == "/api/events?ticket=***&moves_of=3"
    assert redact("/api/events?TOKEN=abc") == "/api/events?TOKEN=***"
    assert redact("/api/units?zone=Z01") == "/api/units?zone=Z01"


def test_the_access_log_line_carries_no_secret() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/osmand?id=s3cr3t&lat=1", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "s3cr3t" not in record.getMessage()
