"""Just enough of the Chrome DevTools Protocol to drive a real headless Chromium from a test.

No browser library: Chromium listens on a port it picks (``--remote-debugging-port=0``),
writes it into ``DevToolsActivePort`` in its user-data dir, and speaks JSON over a websocket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One page target: commands answered by id, events kept until waited for."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.event_arrived = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data:
                future = self.pending.pop(data["id"], None)
                if future and not future.done():
                    future.set_result(data)
            else:
                self.events.append(data)
                self.event_arrived.set()

    async def send(self, method: str, **params) -> dict:
        call_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[call_id] = future
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        answer = await asyncio.wait_for(future, 15)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def wait_event(self, method: str, timeout: float = 15) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                for i, event in enumerate(self.events):
                    if event["method"] == method:
                        return self.events.pop(i)
                self.event_arrived.clear()
                await self.event_arrived.wait()

    async def navigate(self, url: str) -> None:
        self.events.clear()
        await self.send("Page.navigate", url=url)
        await self.wait_event("Page.loadEventFired")

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def click(self, selector: str) -> None:
        """A real mouse press and release at the centre of the element."""
        box = await self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                                  ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode((await self.send("Page.captureScreenshot", format="png"))["data"]))


async def _port(user_data: Path, proc: subprocess.Popen) -> int:
    active = user_data / "DevToolsActivePort"
    for _ in range(900):  # 45 s: a cold Chromium start on a busy 2-core machine took over 10 s once in CI
        if active.exists() and active.read_text().strip():
            return int(active.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        await asyncio.sleep(0.05)
    raise RuntimeError("chromium did not write DevToolsActivePort within 45 s")


@contextlib.asynccontextmanager
async def browser_page(user_data: Path, log: Path) -> AsyncIterator[Page]:
    """A fresh headless Chromium (its own user-data dir) and its first page; killed on the way out."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={user_data}", "about:blank"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        port = await _port(user_data, proc)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json()
            page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with http.ws_connect(page_url, max_msg_size=0) as ws:
                page = Page(ws)
                try:
                    yield page
                finally:
                    page.reader.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
