"""Domain errors. Each carries its HTTP status and a stable problem type; one handler renders them as
RFC 9457 problem details. Services raise these, never HTTPException."""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_TYPE_PREFIX = "urn:omniretail:problem:"


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class AlreadyExists(Conflict):
    code, title = "already-exists", "Already exists"


class InvalidInput(DomainError):
    """Well-formed but unacceptable input (a business rule says no)."""

    status, code, title = 422, "invalid-input", "Invalid input"


class NotAuthenticated(DomainError):
    status, code, title = 401, "not-authenticated", "Authentication required"


class PermissionDenied(DomainError):
    status, code, title = 403, "permission-denied", "Permission denied"


class IdempotencyKeyReused(DomainError):
    status, code, title = 422, "idempotency-key-reused", "Idempotency key reused with a different request"


class IdempotencyInProgress(DomainError):
    status, code, title = 409, "idempotency-in-progress", "A request with this idempotency key is in progress"


class TooManyItems(DomainError):
    status, code, title = 413, "too-many-items", "Too many items in one request"
