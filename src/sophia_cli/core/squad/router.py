"""Route a request through the plan: cache, budget, one retry, fall back, stop on time.

`route()` plans without calling anything (the dry run behind `--explain --dry-run`);
`acomplete()` answers asynchronously (the server) and `complete()` is its synchronous face
(the CLI, `ask`). For each candidate in plan order: hold the worst case and write the row
(books.open_attempt), call with what is left of the request's deadline, close the books.
A transient failure is retried once on the same deployment after a backoff, then the next
candidate is tried; a request never runs past `router.deadline_s`, however many
deployments time out.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sophia_cli.core.errors import (
    BudgetExceededError,
    RateLimitedError,
    SophiaError,
    UpstreamError,
    UsageError,
)
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import answers, books, cache, cooldown, llm, runner, spend
from sophia_cli.core.squad.budget import BudgetBusyError, Refusal
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.models import Deployment, SquadsConfig
from sophia_cli.core.squad.plan import nobody_eligible, plan
from sophia_cli.core.squad.request import CallContext, CompletionRequest
from sophia_cli.core.squad.results import Candidate, Completion, RoutingRecord

T = TypeVar("T")
AttemptCall = Callable[[Candidate, Deployment, llm.Endpoint, books.Ticket, float], Awaitable[T]]
_BUSY_POLL_S = (0.05, 0.1, 0.2, 0.4)


class NullObserver:
    """Reports nowhere (the CLI); the server passes one that feeds Prometheus."""

    def attempt(self, squad: str, deployment: str, outcome: str, seconds: float) -> None:
        return

    def fallback(self, squad: str, deployment: str) -> None:
        return

    def cooldown(self, squad: str, deployment: str) -> None:
        return

    def budget(self, remaining_usd: float) -> None:
        return


def route(settings: Settings, request: CompletionRequest) -> RoutingRecord:
    """The routing plan for a request, without calling a model or touching the budget."""
    return plan(settings, load_squads(settings), request, uuid.uuid4().hex)


def complete(
    settings: Settings, request: CompletionRequest, context: CallContext | None = None
) -> Completion:
    """Answer a request (synchronously) from the cache or the plan's first willing deployment."""
    return runner.run(acomplete(settings, request, context))


async def acomplete(
    settings: Settings, request: CompletionRequest, context: CallContext | None = None
) -> Completion:
    """Answer a request from the cache or the plan's first willing deployment within budget."""
    started = time.perf_counter()
    context = context or CallContext()
    config = load_squads(settings)
    record = await asyncio.to_thread(plan, settings, config, request, uuid.uuid4().hex)
    if cache.cacheable(settings, config.router, request):
        hit = await asyncio.to_thread(cache.lookup, settings, request)
        if hit is not None:
            return await asyncio.to_thread(
                answers.from_cache, settings, config, record, context, hit, started
            )
    attempts = Attempts(settings, config, record, context, started)

    async def call(
        candidate: Candidate,
        deployment: Deployment,
        target: llm.Endpoint,
        ticket: books.Ticket,
        timeout_s: float,
    ) -> Completion:
        response = await llm.acall(target, request, timeout_s)
        return await asyncio.to_thread(
            answers.from_response, settings, config, record, candidate, request, ticket,
            response, started,
        )  # fmt: skip

    return await attempts.run(call)


class Attempts:
    """One request's way through its candidates: budget, retries, fallbacks, deadline."""

    def __init__(
        self,
        settings: Settings,
        config: SquadsConfig,
        record: RoutingRecord,
        context: CallContext,
        started: float,
    ) -> None:
        self.settings, self.config, self.record, self.context = settings, config, record, context
        self.options = config.router
        self.deadline = started + self.options.deadline_s
        self.observer = context.observer or NullObserver()
        self.waited_s = 0.0
        self.failures: list[llm.CallFailure] = []
        self.refusals: list[BudgetExceededError | BudgetBusyError] = []
        self.attempt_count = 0

    async def run(self, call: AttemptCall[T]) -> T:
        eligible = [c for c in self.record.candidates if c.status == "eligible"]
        if not eligible:
            raise nobody_eligible(self.record)
        previous: Candidate | None = None
        for candidate in eligible:
            if previous is not None and previous.status == "failed":
                self.observer.fallback(previous.squad, previous.deployment)
            answer = await self._deployment(candidate, call)
            if answer is not None:
                return answer
            previous = candidate
            if time.perf_counter() >= self.deadline:
                break
        raise await asyncio.to_thread(self._all_failed)

    async def _deployment(self, candidate: Candidate, call: AttemptCall[T]) -> T | None:
        """Up to 1 + retries attempts on one deployment; None to fall back."""
        deployment = self.config.deployment(candidate.squad, candidate.deployment)
        target = llm.endpoint(self.settings, candidate.squad, deployment)
        for retry in range(self.options.retries + 1):
            remaining = self.deadline - time.perf_counter()
            if remaining <= 0:
                candidate.status, candidate.reason = "failed", "request deadline reached"
                return None
            ticket = await self._open(candidate)
            if ticket is None:
                return None
            candidate.attempts += 1
            timeout_s = min(self.options.timeout_s, remaining)
            began = time.perf_counter()
            try:
                answer = await call(candidate, deployment, target, ticket, timeout_s)
            except asyncio.CancelledError:
                # The caller went away mid-call: the provider may still bill it.
                books.charge_estimate(self.settings, ticket, "cut", "cancelled", _ms(began))
                raise
            except SophiaError:
                await asyncio.to_thread(self._abandon, ticket, began)
                raise
            except Exception as exc:  # LiteLLM raises many types; classify() sorts them
                failure = llm.classify(exc)
                again = await self._failed(candidate, ticket, failure, began)
                if not failure.retryable:
                    raise _stop(candidate, failure, target) from exc
                if again and retry < self.options.retries:
                    await asyncio.sleep(min(self.options.backoff_s * 2**retry, remaining))
                    continue
                return None
            self.observer.attempt(candidate.squad, candidate.deployment, "ok", _s(began))
            return answer
        return None

    async def _open(self, candidate: Candidate) -> books.Ticket | None:
        """Hold the budget for an attempt, waiting briefly while calls in flight hold it."""
        self.attempt_count += 1
        row = answers.row_for(self.record, candidate, self.context, self.attempt_count)
        polls = iter(_BUSY_POLL_S)
        while True:
            opened = await asyncio.to_thread(
                books.open_attempt, self.settings, self.config, self.context,
                candidate.reserve_usd or 0.0, row.model_copy(),
            )  # fmt: skip
            if isinstance(opened, books.Ticket):
                return opened
            wait = next(polls, _BUSY_POLL_S[-1])
            left = min(
                self.options.budget_wait_s - self.waited_s, self.deadline - time.perf_counter()
            )
            if not isinstance(opened.error, BudgetBusyError) or left <= 0:
                self._refused(candidate, opened)
                return None
            await asyncio.sleep(min(wait, left))
            self.waited_s += min(wait, left)

    def _refused(self, candidate: Candidate, refusal: Refusal) -> None:
        candidate.status, candidate.reason = "skipped", refusal.error.message
        self.refusals.append(refusal.error)

    async def _failed(
        self, candidate: Candidate, ticket: books.Ticket, failure: llm.CallFailure, began: float
    ) -> bool:
        """Close a failed attempt's books, cool the deployment down; True if worth a retry."""
        self.failures.append(failure)
        candidate.status, candidate.reason = "failed", failure.message
        outcome: spend.Outcome = (
            "timeout" if failure.timed_out else "rate_limited" if failure.status == 429 else "error"
        )
        self.observer.attempt(candidate.squad, candidate.deployment, outcome, _s(began))
        if failure.timed_out:
            # The provider may still be generating, and will bill it: charge the hold.
            await asyncio.to_thread(
                books.charge_estimate, self.settings, ticket, "timeout", failure.message, _ms(began)
            )
        else:
            await asyncio.to_thread(
                books.release,
                self.settings,
                ticket,
                outcome,
                failure.message,
                _ms(began),
            )
        if failure.cool_down:
            started = await asyncio.to_thread(
                cooldown.record_failure, self.settings, self.options, candidate.squad,
                candidate.deployment, failure.retry_after_s,
            )  # fmt: skip
            if started > 0:
                self.observer.cooldown(candidate.squad, candidate.deployment)
                return False
        # Timeouts and long Retry-After waits are not retried here: that is how outages stack.
        return failure.retryable and not failure.timed_out and failure.retry_after_s is None

    def _abandon(self, ticket: books.Ticket, began: float) -> None:
        if not ticket.closed:
            books.charge_estimate(self.settings, ticket, "error", "abandoned", _ms(began))

    def _all_failed(self) -> Exception:
        if self.refusals and not self.failures:
            busy = [r for r in self.refusals if isinstance(r, BudgetBusyError)]
            error: BudgetExceededError | BudgetBusyError = (
                busy[0] if busy else BudgetExceededError(
                    f"no capable deployment fits the budget: {self.refusals[0].message}"
                )
            )  # fmt: skip
            spend.record(
                self.settings,
                spend.CallRow(
                    request_id=self.record.request_id, squad=None, deployment=None, model=None,
                    caller=self.context.caller, feature=self.context.feature,
                    requested_model=self.record.requested_model,
                    outcome="budget_busy" if busy else "budget_exceeded", error=error.message,
                ),
            )  # fmt: skip
            return error
        waits = [
            f.retry_after_s
            for f in self.failures
            if f.status == 429 and f.retry_after_s is not None
        ]
        if waits and len(waits) == len(self.failures):
            return RateLimitedError(
                "every capable deployment is rate limited", retry_after_s=min(waits)
            )
        detail = "; ".join(f.message for f in self.failures) or "request deadline reached"
        return UpstreamError(f"every capable deployment failed: {detail[:400]}")


def _stop(candidate: Candidate, failure: llm.CallFailure, target: llm.Endpoint) -> SophiaError:
    """A failure no other deployment would fix: the request itself, or our credentials."""
    where = f"{candidate.squad}/{candidate.deployment}"
    if failure.client_error:
        return UsageError(
            f"{where} rejected the request: {failure.message}",
            hint="Check messages, tools, response_format and the other parameters.",
        )
    hint = "The request itself was rejected; check messages, tools and response_format."
    if failure.status in (401, 403) and target.key_env:
        hint = f"Check {target.key_env}: the provider rejected it."
    return UpstreamError(f"{where} refused the request: {failure.message}", hint=hint)


def _s(began: float) -> float:
    return time.perf_counter() - began


def _ms(began: float) -> int:
    return int(_s(began) * 1000)
