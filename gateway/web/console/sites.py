"""Sites and their contacts with the guide's banners, a site's history, and one alarm's notification."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from gateway.errors import NotFound
from gateway.services.contact_status import ContactStatus, site_contacts
from gateway.services.site_history import site_history
from gateway.web.appkeys import STORE, TRACE_ID, WELCOME
from gateway.web.console.alarms import alarm_card
from gateway.web.console.keys import BOARD
from gateway.web.console.shell import banners, csrf_field, e, live, page, table, url, when

routes = web.RouteTableDef()


async def _site(request: web.Request):
    site = await request.config_dict[STORE].get_site(request.match_info["site_id"])
    if site is None:
        raise NotFound("There is no such site.")
    return site


@routes.get("/sites")
async def sites(request: web.Request) -> web.Response:
    rows = [[f'<a href="{e(url(request, f"/sites/{s.id}"))}">{e(s.name)}</a>', e(s.id), e(s.dealer_id),
             e(f"until {when(s.on_test_until)}") if s.on_test_until else ""]
            for s in await request.config_dict[STORE].list_sites()]
    body = table(["Site", "Id", "Dealer", "On test"], rows, "Every site") if rows else "<p>No site yet.</p>"
    return page(request, "Sites", body, current="sites")


def _contact_card(request: web.Request, site_id: str, status: ContactStatus) -> str:
    c = status.contact
    facts = " · ".join(e(f) for f in (c.phone, c.email, c.title, f"slot {c.slot_number}" if c.slot_number else None,
                                      "auto notify" if c.auto_notify else "no auto notify") if f)
    failure = ""
    if status.last_failure is not None:
        f = status.last_failure
        failure = (f'<p class="muted">Last failed text ({e(f.kind)}, {e(when(f.at))}): '
                   f"{e(status.last_failure_words)}</p>")
    action = "Send the welcome text again" if status.welcome != "none" else "Send the welcome text"
    welcome = (f'<form method="post" action="{e(url(request, f"/sites/{site_id}/contacts/{c.id}/welcome"))}">'
               f'{csrf_field(request)}<button type="submit">{e(action)}</button></form>') if c.phone else ""
    return (f'<article class="card" id="contact-{c.id}"><h3>{e(c.name)}</h3><p class="muted">{facts}</p>'
            f"{banners(status.banners)}{failure}{welcome}</article>")


@routes.get("/sites/{site_id}")
async def site_page(request: web.Request) -> web.Response:
    site = await _site(request)
    contacts = await site_contacts(request.config_dict[STORE], site.id)
    notice = ""
    if request.query.get("welcomed"):
        notice = f'<p class="notice green" role="status">The welcome text is queued for {e(request.query["welcomed"])}.</p>'
    links = (f'<p><a href="{e(url(request, f"/sites/{site.id}/history"))}">History</a> · '
             f'<a href="{e(url(request, f"/sites/{site.id}/dispatch"))}">Dispatch SMS</a></p>')
    cards = "".join(_contact_card(request, site.id, c) for c in contacts) or "<p>This site has no contacts.</p>"
    return page(request, site.name, f"{notice}{links}<h2>Contacts</h2>{cards}", current="sites")


@routes.post("/sites/{site_id}/contacts/{contact_id:[0-9]{1,18}}/welcome")
async def send_welcome(request: web.Request) -> web.Response:
    site = await _site(request)
    contact = await request.config_dict[STORE].get_contact(int(request.match_info["contact_id"]))
    if contact is None or contact.site_id != site.id:
        raise NotFound("There is no such contact on this site.")
    await request.config_dict[WELCOME].send(site, contact, request[TRACE_ID])
    return web.Response(status=303, headers={"Location": url(
        request, f"/sites/{site.id}?welcomed={quote(contact.name)}#contact-{contact.id}")})


@routes.get("/sites/{site_id}/history")
async def history(request: web.Request) -> web.Response:
    site = await _site(request)
    rows = []
    for h in await site_history(request.config_dict[STORE], site.id):
        code = e(h.code)
        if h.notification is not None:
            kind, key = h.notification
            path = f"/sites/{site.id}/{kind}s/{key}"
            code += f'<br><a href="{e(url(request, path))}">Notification</a>'
        comment = e(h.comment) if len(h.rows) == 1 else e(f"{len(h.rows)} texts")
        rows.append([e(when(h.at)), code, e(", ".join(h.contacts)), f"<pre>{comment}</pre>"])
    body = table(["Time", "Event", "Contact", "Comment"], rows, "Newest first") if rows else "<p>Nothing logged.</p>"
    part = live("history", body, "History")
    return page(request, f"{site.name}: history", part, current="sites", parts={"history": part})


@routes.get("/sites/{site_id}/verifications/{verification_id}")
async def verification(request: web.Request) -> web.Response:
    site = await _site(request)
    alarm = await request.app[BOARD].notice(site.id, request.match_info["verification_id"])
    if alarm is None:
        raise NotFound("There is no such alarm verification for this site.")
    log = table(["Time", "Event", "Comment"], [[e(when(r.at)), e(r.code), f"<pre>{e(r.comment)}</pre>"]
                                              for r in alarm.log], "What was logged, oldest first")
    part = live("notice", alarm_card(request, alarm, link=False, texts=True) + f"<h2>Event log</h2>{log}",
                "Notification")
    return page(request, f"Notification: {site.name}", part, current="alarms", parts={"notice": part})
