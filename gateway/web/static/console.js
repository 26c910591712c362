// The operator console's one script: it refreshes the parts of a page marked data-live in place.
// Every page works without it (reload to see news); it loads nothing but this page's own parts.
"use strict";

(function () {
  const EVERY_MS = 2000;
  const parts = () => Array.from(document.querySelectorAll("section[data-live][id]"));
  if (parts().length === 0) {
    return;
  }

  async function refresh(part) {
    const address = new URL(window.location.href);
    address.hash = "";
    address.searchParams.set("part", part.id);
    const response = await fetch(address, {credentials: "same-origin", headers: {"Accept": "text/html"}});
    if (response.redirected || response.status === 401 || response.status === 403) {
      window.location.reload();  // the session ended: the page itself goes to the sign-in form
      return false;
    }
    if (!response.ok) {
      return true;
    }
    const html = await response.text();
    const holder = document.createElement("template");
    holder.innerHTML = html;
    const fresh = holder.content.firstElementChild;
    if (fresh && fresh.id === part.id && fresh.innerHTML !== part.innerHTML) {
      part.replaceWith(fresh);
    }
    return true;
  }

  async function tick() {
    let going = true;
    if (!document.hidden) {
      for (const part of parts()) {
        try {
          going = (await refresh(part)) && going;
        } catch (error) {
          // the daemon is restarting or the network is down: try again next time
        }
      }
    }
    if (going) {
      window.setTimeout(tick, EVERY_MS);
    }
  }

  window.setTimeout(tick, EVERY_MS);
})();
