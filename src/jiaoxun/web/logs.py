"""No secret lands in a log: the access log's request lines lose the values of the query
parameters that carry one (a device's secret, which Traccar Client may send as its `id`; a
stream ticket; a token sent where none belongs)."""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = ("key", "id", "deviceid", "ticket", "token", "password")
_PATTERN = re.compile(rf"(?i)([?&](?:{'|'.join(SECRET_PARAMETERS)})=)[^&\s]*")


def redact(path: str) -> str:
    """`path` with the value of every secret-carrying query parameter replaced by ``***``."""
    return _PATTERN.sub(r"\1***", path)


class RedactSecrets(logging.Filter):
    """For uvicorn's logs, whose records carry the request line in their arguments (client,
    method, path, version, status; or client, path, status for a WebSocket)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_access_log() -> None:
    """Install `RedactSecrets` on uvicorn's access log and on its main log, where it writes
    the WebSocket handshakes (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
