"""The operator console in a real headless Chromium against a real ``gateway serve``: sign in, read the
banners, send the welcome text and a Dispatch SMS, watch an alarm turn confirmed without a reload, and
check every page for labels, alt texts and contrast at a phone's width.

Screenshots land in tests/artifacts/ (git-ignored). Without chromium the test skips locally and fails
under CI=true, where .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest

from tests.cdp import Page, browser_page
from tests.conftest import PHONE
from tests.daemon import Daemon
from tests.test_welcome_browser import need_chromium  # noqa: F401 (a fixture)

ARTIFACTS = Path(__file__).parent / "artifacts"
LANDLINE = "+15005550009"  # the loopback carrier refuses it with Twilio's 21614
WIDTH = 390  # a phone

# Every form control has a label, every image an alt text, and every piece of text a contrast of at least
# 4.5 against what is behind it (WCAG AA), worked out from the computed styles.
ACCESSIBILITY = r"""(() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
    const named = el.tagName === "BUTTON" ? el.textContent.trim() :
      (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest("label") ||
      el.getAttribute("aria-label");
    if (!named) problems.push("no label: " + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push("no alt: " + img.outerHTML.slice(0, 80));
  }
  const rgba = (s) => { const p = s.match(/[\d.]+/g).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const behind = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
    return out;
  };
  const lum = (c) => {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest(".skip")) continue;  // the skip link shows only when focused
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width === 0) continue;
    const bg = behind(el), fg = rgba(style.color);
    const color = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [lum(color), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    checked += 1;
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)}: "${n.textContent.trim().slice(0, 40)}"`);
  }
  return {problems, checked, width: document.documentElement.scrollWidth};
})()"""


async def check_page(page: Page, name: str) -> None:
    """Accessible, fits a phone, no error in the console (a CSP refusal would be one); a screenshot."""
    found = await page.evaluate(ACCESSIBILITY)
    assert found["problems"] == [] and found["checked"] > 5, (name, found)
    assert found["width"] <= WIDTH, (name, found["width"])
    errors = [e["params"]["entry"] for e in page.events if e["method"] == "Log.entryAdded"
              and e["params"]["entry"]["level"] == "error"]
    assert errors == [], (name, errors)
    await page.screenshot(ARTIFACTS / f"console-{name}.png")


async def press(page: Page, selector: str) -> None:
    """A real click, after scrolling the element into the phone's screen."""
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})")
    await page.click(selector)


async def click_and_load(page: Page, selector: str) -> None:
    page.events = [e for e in page.events if e["method"] != "Page.loadEventFired"]
    await press(page, selector)
    await page.wait_event("Page.loadEventFired")


async def set_value(page: Page, selector: str, value: str) -> None:
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")


async def until(probe, what: str, tries: int = 100):
    """Poll ``probe`` (bounded: 100 tries, 0.1 s apart) until it returns something true."""
    for _ in range(tries):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    d.start()
    yield d
    d.stop()
    d.close()


async def test_an_operator_works_the_console_in_chromium(need_chromium, daemon, tmp_path):  # noqa: F811
    site = daemon.cli("site", "add", "--dealer", "12345", "--name", "Main Office").stdout.split("\t")[0]
    john = daemon.cli("contact", "add", "--site", site, "--first-name", "John", "--last-name", "Doe", "--phone",
                      PHONE, "--auto-notify").stdout.split("\t")[0]
    lana = daemon.cli("contact", "add", "--site", site, "--first-name", "Lana", "--last-name", "Line", "--phone",
                      LANDLINE).stdout.split("\t")[0]
    key = daemon.cli("api-key", "add", "--name", "desk").stdout.strip()
    bearer = {"Authorization": f"Bearer {daemon.operator_key()}"}

    async with aiohttp.ClientSession(daemon.url, timeout=aiohttp.ClientTimeout(total=10)) as http, \
            browser_page(tmp_path / "chromium-profile", tmp_path / "chromium.log") as page:

        async def outbox(to: str) -> list[dict]:
            async with http.get("/carriers/loopback/outbox", params={"to": to}) as resp:
                return (await resp.json())["messages"]

        async def logged(code: str) -> list[dict]:
            async with http.get("/ext/v1/event-log", params={"site_id": site}, headers=bearer) as resp:
                return [r for r in (await resp.json())["data"] if r["code"] == code]

        await page.send("Page.enable")
        await page.send("Log.enable")
        await page.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=800, deviceScaleFactor=1,
                        mobile=True)

        # Sign in: any console path leads to the form, and back after it.
        await page.navigate(f"{daemon.url}/console/sites/{site}")
        assert await page.evaluate("location.pathname") == "/console/sign-in"
        await check_page(page, "sign-in")
        await press(page, "#key")
        await page.send("Input.insertText", text=key)
        await click_and_load(page, "form button[type=submit]")
        assert await page.evaluate("location.pathname") == f"/console/sites/{site}"

        # The welcome text to both: John confirms, Lana's number cannot take texts.
        for contact in (john, lana):
            await click_and_load(page, f"#contact-{contact} button")
        link = (await until(lambda: outbox(PHONE), "John's welcome text"))[-1]["body"]
        token = re.search(r"/welcome/(\S+)", link).group(1)
        async with http.post(f"/welcome/{token}/confirm") as resp:
            assert resp.status == 200
        await until(lambda: logged("SMSFAIL"), "Lana's welcome text to fail")
        await page.navigate(f"{daemon.url}/console/sites/{site}")
        banners = await page.evaluate("Object.fromEntries([...document.querySelectorAll('article[id^=contact-]')]"
                                      ".map(a => [a.id, [...a.querySelectorAll('.banner')].map(b => "
                                      "[b.className, b.textContent])]))")
        assert banners[f"contact-{john}"] == [["banner blue", "Confirmed The contact confirmed the welcome message."]]
        assert banners[f"contact-{lana}"] == [["banner red", "Send error 21614 not a mobile number: The number is a "
                                                             "landline or cannot take texts."]]
        assert await page.evaluate("getComputedStyle(document.querySelector('.banner.red')).backgroundColor") == \
            "rgb(253, 226, 226)"  # the page's own style passed the CSP
        await check_page(page, "site")

        # Dispatch SMS: a template, edited, to John only.
        await page.navigate(f"{daemon.url}/console/sites/{site}/dispatch")
        await set_value(page, "#template", "police-dispatched")
        await click_and_load(page, "main form[method=get] button")
        assert "police have been dispatched" in await page.evaluate("document.querySelector('#text').value")
        await set_value(page, "#text", "{first_name}: police are on the way to {site_name}. Ref {reference}.")
        await set_value(page, "#var-reference", "R-17")
        await press(page, f"input[name=contact][value='{lana}']")  # untick Lana
        assert await page.evaluate(f"document.querySelector(\"input[value='{lana}']\").checked") is False
        await check_page(page, "dispatch-form")
        await click_and_load(page, "#send button[type=submit]")
        assert re.fullmatch(rf"/console/sites/{site}/dispatches/dsp_\w+", await page.evaluate("location.pathname"))
        async def dispatched() -> list[str]:
            return [m["body"] for m in await outbox(PHONE) if "police" in m["body"]]

        assert await until(dispatched, "the dispatch text") == ["John: police are on the way to Main Office. Ref R-17."]
        assert await outbox(LANDLINE) == []
        await check_page(page, "dispatch")

        # Live alarms: an alarm arrives, John texts YES; the page changes by itself.
        await page.navigate(f"{daemon.url}/console/")
        await page.evaluate("window.notReloaded = true")
        async with http.post("/ext/v1/events", headers=bearer, json={
                "site_id": site, "event_code": "BA", "zone": "3", "text": "Motion, hallway"}) as resp:
            assert resp.status == 201
        card = "document.querySelector('#alarms article')"
        assert "Waiting for an answer" in await until(
            lambda: page.evaluate(f"{card} && {card}.querySelector('h2').textContent"), "the alarm on the board")
        await until(lambda: page.evaluate(f"{card}.querySelector('td:nth-child(3)').textContent === 'sent'"),
                    "the text sent")
        await check_page(page, "alarms-waiting")
        async with http.post("/carriers/loopback/inbound", json={"from": PHONE, "body": "YES"}) as resp:
            assert (await resp.json())["replies"][0].startswith("Thank you John.")
        heading = await until(lambda: page.evaluate(
            f"{card}.querySelector('h2').textContent.includes('Confirmed') && {card}.querySelector('h2').textContent"),
            "the alarm confirmed on the board")
        assert heading == "Main Office Confirmed by John Doe"
        assert await page.evaluate("window.notReloaded") is True
        await check_page(page, "alarms-confirmed")

        # The history's notification, and the health page.
        await page.navigate(f"{daemon.url}/console/sites/{site}/history")
        await check_page(page, "history")
        await click_and_load(page, "a[href*='/verifications/']")
        assert "ALARM at Main Office: Motion, hallway zone 3" in await page.evaluate("document.body.textContent")
        await check_page(page, "notification")
        await page.navigate(f"{daemon.url}/console/health")
        assert "21614 not a mobile number" in await page.evaluate("document.body.textContent")
        await check_page(page, "health")
