"""Errors with a code from the reference guide (section 17) and the HTTP status that goes with it."""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE = {
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "budget_exceeded": 402,
    "policy_denied": 403,
    "internal_error": 500,
}


class ThinklioError(Exception):
    """An error the caller should see: a stable code, a human message and optional details."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self._status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return self._status or STATUS_BY_CODE.get(self.code, 500)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


def not_found(what: str) -> ThinklioError:
    return ThinklioError("not_found", f"{what} not found")
