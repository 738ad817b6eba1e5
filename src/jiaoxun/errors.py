"""The one error hierarchy of jiaoxun.

Every error names the rule that was broken and the value that broke it. The web layer maps these
classes to HTTP status codes in one place; the CLI prints the message and exits non-zero.
"""


class JiaoxunError(Exception):
    """Base of every error jiaoxun raises on purpose."""


class InvalidInput(JiaoxunError):
    """The caller gave a value that breaks a rule (HTTP 422, CLI exit 2)."""


class NotFound(JiaoxunError):
    """A named thing does not exist (HTTP 404)."""


class Conflict(JiaoxunError):
    """The request is valid but clashes with the current state (HTTP 409)."""


class DataSourceError(JiaoxunError):
    """An input file is missing, unreadable or holds no usable data."""


class OffNetwork(InvalidInput):
    """A point lies farther from the road network than the snapping limit allows."""


class IllegalTransition(Conflict):
    """A state change the incident or dispatch-order lifecycle does not allow (HTTP 409)."""


class NotAllowed(JiaoxunError):
    """The user's role does not permit the action (HTTP 403)."""


class NotAuthenticated(JiaoxunError):
    """No valid credentials were given (HTTP 401)."""


class TooManyRequests(JiaoxunError):
    """A limit on how often (wrong logins, a device's fixes) was passed (HTTP 429);
    `retry_after_s` says when to try again."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Unavailable(JiaoxunError):
    """What the request needs is away for a moment: send it again (HTTP 503)."""


class SolverFailed(JiaoxunError):
    """An optimisation solver ended without a usable solution (infeasible, invalid, timed out)."""


class TooLarge(InvalidInput):
    """A request or file is larger than its limit allows (HTTP 413)."""
