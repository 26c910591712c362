"""Live alarms: the verifications of the last day, refreshed in place while the page is open."""

from __future__ import annotations

from aiohttp import web

from gateway.services.alarm_board import Alarm
from gateway.web.console.keys import BOARD
from gateway.web.console.shell import e, live, page, table, url, when

routes = web.RouteTableDef()

STATES = {"waiting": ("yellow", "Waiting for an answer"), "confirmed": ("blue", "Confirmed"),
          "cancelled": ("grey", "Cancelled"), "expired": ("red", "No answer: expired"),
          "undelivered": ("red", "Not delivered to anyone"), "answered": ("blue", "Answered")}
RECIPIENT = {"pending": ("grey", "queued"), "sent": ("blue", "sent"), "delivered": ("green", "delivered"),
             "failed": ("red", "failed"), "removed": ("grey", "removed (contact deleted)"),
             # a call list's recipients not reached (yet)
             "waiting": ("grey", "later step"), "held": ("grey", "quiet hours"), "skipped": ("red", "skipped"),
             "not_reached": ("grey", "not reached")}


def chip(tone: str, label: str) -> str:
    return f'<span class="chip {e(tone)}">{e(label)}</span>'


def alarm_card(request: web.Request, alarm: Alarm, *, link: bool = True, texts: bool = False) -> str:
    """One alarm: its state, and each recipient's delivery status and answer (with the text sent, ``texts``)."""
    v = alarm.verification
    tone, label = STATES[alarm.state]
    if alarm.state in ("confirmed", "cancelled") and v.responder_name:
        label = f"{label} by {v.responder_name}"
    notice = url(request, f"/sites/{v.site_id}/verifications/{v.id}")
    title = f'<a href="{e(notice)}">{e(alarm.site_name)}</a>' if link else e(alarm.site_name)
    rows = []
    for r in alarm.recipients:
        status = chip(*RECIPIENT.get(r.status, ("grey", r.status)))
        if r.error:
            status += f'<br><span class="muted">{e(r.error)}</span>'
        answer = chip("blue" if r.response == "confirmed" else "grey", r.response) if r.response else ""
        row = [e(r.name), e(f"{r.channel}: {r.address or ''}"), status, answer]
        if texts:
            row.append(f"<pre>{e(r.text)}</pre>" if r.text else "")
        rows.append(row)
    headers = ["Contact", "Sent to", "Status", "Answer"] + (["Text sent"] if texts else [])
    deadline = f" · answer by {e(when(v.timeout_at))}" if alarm.state == "waiting" else ""
    return (f'<article class="card" id="alarm-{e(v.id)}"><h2>{title} {chip(tone, label)}</h2>'
            f'<p class="muted">Event {e(v.event_id or "none")} · process {e(v.process)} · sent {e(when(v.created_at))}'
            f"{deadline}</p>{table(headers, rows, 'Recipients')}</article>")


@routes.get("/")
async def board(request: web.Request) -> web.Response:
    alarms = await request.app[BOARD].recent()
    waiting = [a for a in alarms if a.state == "waiting"]
    done = [a for a in alarms if a.state != "waiting"]
    html = (f"<h2>Waiting for an answer ({len(waiting)})</h2>"
            + ("".join(alarm_card(request, a) for a in waiting) or '<p class="muted">No alarm is waiting.</p>')
            + f"<h2>Answered or over, last 24 hours ({len(done)})</h2>"
            + ("".join(alarm_card(request, a) for a in done) or '<p class="muted">Nothing in the last 24 hours.</p>'))
    part = live("alarms", html, "Alarms")
    return page(request, "Live alarms", part, current="alarms", parts={"alarms": part})
