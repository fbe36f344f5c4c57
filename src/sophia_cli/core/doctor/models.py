"""Results of `sophia doctor`, shared by the CLI, JUnit output and `/ready`."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Outcome(BaseModel):
    """What one check found."""

    status: Status
    detail: str


class CheckResult(BaseModel):
    """One check's outcome with its identity and timing."""

    name: str
    category: str
    status: Status
    detail: str
    duration_ms: int
    required: bool = True


class Summary(BaseModel):
    ok: int
    warn: int
    fail: int
    skip: int
    duration_ms: int
    healthy: bool


class DoctorReport(BaseModel):
    """Every check's result plus a summary."""

    checks: list[CheckResult]
    summary: Summary

    @property
    def exit_code(self) -> int:
        return 0 if self.summary.healthy else 1


def ok(detail: str) -> Outcome:
    return Outcome(status=Status.OK, detail=detail)


def warn(detail: str) -> Outcome:
    return Outcome(status=Status.WARN, detail=detail)


def fail(detail: str) -> Outcome:
    return Outcome(status=Status.FAIL, detail=detail)


def skip(detail: str) -> Outcome:
    return Outcome(status=Status.SKIP, detail=detail)
