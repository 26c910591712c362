"""A decisive answer given some other way than a text (an email link, a push action, a key pressed on a call),
recorded by the rule a text's answer is: the process keyword's event code, the response, the subscribers told."""

from __future__ import annotations

from collections.abc import Callable

from gateway.clock import Clock
from gateway.core.keywords import Keyword, KeywordTable
from gateway.core.pipeline import DEFAULT_RESPONSE_CODE, OUTCOME_RESPONSES, record_response
from gateway.daemon.metrics import Metrics
from gateway.errors import StaleDecision
from gateway.model import Decision, LogEntry, Verification
from gateway.stores import Store


class Answers:
    def __init__(self, store: Store, table: Callable[[], KeywordTable], clock: Clock, metrics: Metrics) -> None:
        self.store, self.table, self.clock, self.metrics = store, table, clock, metrics

    def keyword(self, verification: Verification, outcome: str) -> Keyword | None:
        """The keyword of the verification's process that answers ``outcome`` (confirm, cancel), if it has one."""
        process = self.table().process(verification.process)
        return next((k for k in process.keywords if k.outcome == outcome), None) if process else None

    async def answer(self, verification: Verification, contact_id: int, outcome: str, *, channel: str, comment: str,
                     trace_id: str | None = None, extra: list[LogEntry] | None = None) -> str | None:
        """Answer ``verification`` for ``contact_id``: logged with the code the matching keyword logs for a text,
        and ``extra`` rows with it. The response (confirmed, cancelled), or None when it was answered (or
        expired) first."""
        now = self.clock.now()
        process = self.table().process(verification.process)
        keyword = self.keyword(verification, outcome)
        response = OUTCOME_RESPONSES[outcome]
        code = keyword.code if keyword else (process.response_code if process else DEFAULT_RESPONSE_CODE)
        decision = Decision(log=[LogEntry(
            code=code, at=now, site_id=verification.site_id, contact_id=contact_id, verification_id=verification.id,
            event_id=verification.event_id, comment=comment, trace_id=trace_id,
            details={"outcome": outcome, "channel": channel, **({"keyword": keyword.word} if keyword else {})}),
            *(extra or [])])
        record_response(decision, verification, contact_id, response, now)
        try:
            await self.store.commit(decision)
        except StaleDecision:
            return None
        self.metrics.logged(decision.log)
        self.metrics.answered(decision.responses, [verification])
        return response
