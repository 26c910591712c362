"""Dispatch SMS from the console: pick a template, edit the text, choose contacts, send; then the
dispatch with the replies that come in its window (refreshed in place)."""

from __future__ import annotations

from aiohttp import web

from gateway.errors import NotFound, Refused, ValidationFailed, http_status
from gateway.services.dispatch_desk import DispatchForm
from gateway.web.appkeys import STORE, TRACE_ID, VERIFICATIONS
from gateway.web.console.keys import DESK, FORM
from gateway.web.console.shell import csrf_field, e, live, page, table, url, when

routes = web.RouteTableDef()


def _form_html(request: web.Request, site_id: str, form: DispatchForm, *, text: str, chosen: set[int],
               variables: dict[str, str], error: str = "") -> str:
    action = e(url(request, f"/sites/{site_id}/dispatch"))
    options = "".join(f'<option value="{e(t.name)}"{" selected" if form.template and t.name == form.template.name else ""}>'
                      f"{e(t.name)}</option>" for t in form.templates)
    pick = (f'<form method="get" action="{action}" class="card"><label for="template">Dispatch template</label>'
            f'<select id="template" name="template"><option value="">(none: write the text)</option>{options}</select>'
            '<p><button type="submit">Use this template</button></p></form>')
    names = form.template.variables if form.template else ()
    fields = "".join(f'<label for="var-{e(n)}">{e(n)}</label><input type="text" id="var-{e(n)}" name="var:{e(n)}" '
                     f'value="{e(variables.get(n, ""))}">' for n in names)
    boxes = "".join(
        f'<label class="check"><input type="checkbox" name="contact" value="{r.contact.id}"'
        f'{" checked" if r.contact.id in chosen else ""}{" disabled" if r.reason else ""}> '
        f'{e(r.contact.name)} <span class="muted">{e(r.contact.phone or "")}{e(f" ({r.reason})" if r.reason else "")}'
        "</span></label>" for r in form.contacts)
    template = f'<input type="hidden" name="template" value="{e(form.template.name)}">' if form.template else ""
    alert = f'<p class="notice red" role="alert">{e(error)}</p>' if error else ""
    return (f'{pick}{alert}<form id="send" method="post" action="{action}" class="card">{csrf_field(request)}'
            f"{template}"
            '<label for="text">Text</label><textarea id="text" name="text" required maxlength="1600">'
            f'{e(text)}</textarea><p class="muted">Placeholders such as {{site_name}} and {{first_name}} are filled in '
            f"for each contact.</p>{fields}<fieldset><legend>Send to</legend>{boxes or 'No contacts.'}</fieldset>"
            '<button type="submit">Send</button></form>')


@routes.get("/sites/{site_id}/dispatch")
async def dispatch_form(request: web.Request) -> web.Response:
    site = await _site(request)
    form = await request.app[DESK].form(site.id, request.query.get("template") or None)
    text = form.template.text if form.template else ""
    chosen = {r.contact.id for r in form.contacts if r.reason is None}
    return page(request, f"Dispatch SMS: {site.name}", _form_html(request, site.id, form, text=text, chosen=chosen,
                                                                  variables={}), current="sites")


@routes.post("/sites/{site_id}/dispatch")
async def send(request: web.Request) -> web.Response:
    site = await _site(request)
    posted = request[FORM]
    template = posted.get("template") or None
    variables = {k[4:]: v for k, v in posted.items() if k.startswith("var:")}
    chosen = [int(c) for c in posted.getall("contact", []) if c.isdigit() and len(c) < 19]
    text = posted.get("text", "")
    try:
        if not chosen:
            raise ValidationFailed("Choose at least one contact.", field="contacts")
        sent, _ = await request.config_dict[VERIFICATIONS].dispatch(
            site_id=site.id, contacts=list(chosen), template=template, text=text, variables=variables,
            trace_id=request[TRACE_ID])
    except Refused as exc:
        form = await request.app[DESK].form(site.id, template)
        return page(request, f"Dispatch SMS: {site.name}", _form_html(
            request, site.id, form, text=text, chosen=set(chosen), variables=variables, error=exc.message),
            current="sites", status=http_status(exc))
    return web.Response(status=303, headers={"Location": url(request, f"/sites/{site.id}/dispatches/{sent.id}")})


@routes.get("/sites/{site_id}/dispatches/{dispatch_id}")
async def dispatch_page(request: web.Request) -> web.Response:
    site = await _site(request)
    found = await request.app[DESK].sent(site.id, request.match_info["dispatch_id"])
    if found is None:
        raise NotFound("There is no such dispatch for this site.")
    d = found.dispatch
    sent = table(["Contact", "Phone", "Text sent"], [[e((r.details or {}).get("recipient")), e(r.phone),
                                                      f"<pre>{e(r.comment)}</pre>"] for r in found.sent], "Texts")
    names = {c: n for c, n in ((r.contact_id, (r.details or {}).get("recipient")) for r in found.sent)}
    replies = table(["Time", "Contact", "Reply"], [[e(when(r.at)), e(names.get(r.contact_id, r.phone)),
                                                   f"<pre>{e(r.comment)}</pre>"] for r in found.replies],
                    "Replies, oldest first") if found.replies else '<p class="muted">No reply yet.</p>'
    window = "open" if found.window_open else "closed"
    part = live("replies", f"<h2>Replies (window {window} until {e(when(d.reply_until))})</h2>{replies}", "Replies")
    body = (f'<p class="muted">{e(d.template or "free text")} · code {e(d.code)} · sent {e(when(d.created_at))}</p>'
            f"{sent}{part}")
    return page(request, f"Dispatch SMS: {site.name}", body, current="sites", parts={"replies": part})


async def _site(request: web.Request):
    site = await request.config_dict[STORE].get_site(request.match_info["site_id"])
    if site is None:
        raise NotFound("There is no such site.")
    return site
