"""The exceptions of Heracles.

Every error of the core reaches Python as a :class:`HeraclesError` carrying the core's
stable ``code`` (``"USER_NOT_FOUND"``, ...), its ``message`` and structured ``details`` —
the same three fields as the REST API's error envelope. The compiled module converts each
core error once, at the boundary, through :func:`_from_core`; the code decides the subclass.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "HeraclesError",
    "NotFoundError",
    "AlreadyExistsError",
    "ValidationError",
    "InvalidFilterError",
    "AclDeniedError",
    "DirectoryUnavailableError",
    "PreconditionFailedError",
    "BusinessRuleError",
    "InvalidCredentialsError",
]


class HeraclesError(Exception):
    """An error of Heracles: ``code`` (stable, SCREAMING_SNAKE), ``message``, ``details``."""

    code: str
    message: str
    details: Dict[str, Any]

    def __init__(
        self,
        message: str,
        code: str = "INTERNAL",
        details: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = dict(details or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, details={self.details!r})"

    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.code, self.details))


class NotFoundError(HeraclesError, LookupError):
    """No such object (``USER_NOT_FOUND``, ``GROUP_NOT_FOUND``, ... ``ENTRY_NOT_FOUND``)."""


class AlreadyExistsError(HeraclesError):
    """An object with that name or unique value exists (``ALREADY_EXISTS``)."""


class ValidationError(HeraclesError, ValueError):
    """A value was refused (``VALIDATION_FAILED``, ``INVALID_DN``, ``SCHEMA_VIOLATION``, ...)."""


class InvalidFilterError(ValidationError):
    """A filter could not be parsed or is not allowed (``INVALID_FILTER``); ``details`` says
    which clause and why."""


class AclDeniedError(HeraclesError):
    """The principal may not do this (``ACL_DENIED``); ``details`` has ``permission`` and
    ``target``."""


class DirectoryUnavailableError(HeraclesError):
    """The directory cannot be reached or did not answer in time (``DIRECTORY_UNAVAILABLE``,
    ``TIMEOUT``), or the audit trail could not be written (``AUDIT_UNAVAILABLE``): nothing was
    changed; retry later."""


class PreconditionFailedError(HeraclesError):
    """The object changed since it was read (``PRECONDITION_FAILED``, with ``if_match``)."""


class BusinessRuleError(HeraclesError):
    """A business rule forbids it (``BUSINESS_RULE_VIOLATION``: e.g. deleting a non-empty
    department, an exhausted id range)."""


class InvalidCredentialsError(HeraclesError):
    """Wrong password (``INVALID_CREDENTIALS``), e.g. a wrong current password."""


_BY_CODE: Dict[str, Type[HeraclesError]] = {
    "ALREADY_EXISTS": AlreadyExistsError,
    "VALUE_ALREADY_EXISTS": AlreadyExistsError,
    "INVALID_FILTER": InvalidFilterError,
    "VALIDATION_FAILED": ValidationError,
    "INVALID_DN": ValidationError,
    "INVALID_PAGINATION": ValidationError,
    "INVALID_JSON": ValidationError,
    "BAD_REQUEST": ValidationError,
    "SCHEMA_VIOLATION": ValidationError,
    "CONSTRAINT_VIOLATION": ValidationError,
    "NO_SUCH_ATTRIBUTE": ValidationError,
    "INAPPROPRIATE_MATCHING": ValidationError,
    "PAYLOAD_TOO_LARGE": ValidationError,
    "ACL_DENIED": AclDeniedError,
    "DIRECTORY_UNAVAILABLE": DirectoryUnavailableError,
    "TIMEOUT": DirectoryUnavailableError,
    "AUDIT_UNAVAILABLE": DirectoryUnavailableError,
    "PRECONDITION_FAILED": PreconditionFailedError,
    "BUSINESS_RULE_VIOLATION": BusinessRuleError,
    "NOT_ALLOWED_ON_NON_LEAF": BusinessRuleError,
    "UNWILLING_TO_PERFORM": BusinessRuleError,
    "INVALID_CREDENTIALS": InvalidCredentialsError,
}


def error_class(code: str) -> Type[HeraclesError]:
    """The exception class of a core error code."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    if code == "NOT_FOUND" or code.endswith("_NOT_FOUND"):
        return NotFoundError
    return HeraclesError


def _from_core(code: str, message: str, details: Mapping[str, Any]) -> HeraclesError:
    """Called by the compiled module for every core error."""
    return error_class(code)(message, code, details)
