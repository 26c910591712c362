"""A cap on replies to one number, against auto-responder loops (two robots texting each other)."""

from __future__ import annotations

from msgspec.structs import replace
from datetime import datetime, timedelta

from gateway.config import Interface
from gateway.model import Decision, InterfaceState, LogEntry


def apply_reply_budget(decision: Decision, state: InterfaceState, config: Interface, now: datetime,
                       base: dict) -> InterfaceState:
    """Drop ``decision``'s replies while the number is muted; mute it (logged once) when it spends its budget."""
    if not decision.replies:
        return state
    if state.muted_until and state.muted_until > now:
        decision.replies.clear()
        return state
    if not state.replies_since or now - state.replies_since >= timedelta(minutes=config.reply_budget_minutes):
        state = replace(state, replies=0, replies_since=now, muted_until=None)
    if state.replies + len(decision.replies) > config.reply_budget:
        decision.replies.clear()
        decision.log.append(LogEntry(
            code=config.codes.muted, **base,
            comment=f"More than {config.reply_budget} replies in {config.reply_budget_minutes} min: "
                    f"no replies for {config.mute_minutes} min"))
        return replace(state, muted_until=now + timedelta(minutes=config.mute_minutes))
    return replace(state, replies=state.replies + len(decision.replies))
