// The welcome page's "Also alert me on this device": registers the push service worker, subscribes this
// browser with the gateway's VAPID key and hands the subscription to the gateway (POST, JSON, same origin).
"use strict";

(function () {
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  if (!button) {
    return;
  }
  const say = (text) => { status.textContent = text; };
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    button.disabled = true;
    say("This browser cannot show alarm alerts. You will still get texts.");
    return;
  }

  function key(base64) {
    const padded = (base64 + "===".slice((base64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  // The worker's scope (/push/) does not hold this page, so navigator.serviceWorker.ready would never come.
  function activated(registration) {
    const worker = registration.installing || registration.waiting;
    if (!worker) {
      return Promise.resolve(registration);
    }
    return new Promise((resolve) => worker.addEventListener("statechange", () => {
      if (worker.state === "activated") {
        resolve(registration);
      }
    }));
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (await Notification.requestPermission() !== "granted") {
        say("Alerts are blocked for this site in the browser's settings.");
        button.disabled = false;
        return;
      }
      const registration = await activated(
        await navigator.serviceWorker.register(button.dataset.worker, {scope: button.dataset.scope}));
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: key(button.dataset.key)});
      const response = await fetch(button.dataset.action, {
        method: "POST", credentials: "omit", headers: {"Content-Type": "application/json"},
        body: JSON.stringify(subscription)});
      say(response.ok ? "Done: this device will show alarm alerts." : "The gateway did not take it. Try again later.");
      button.disabled = response.ok;
    } catch (error) {
      say("This device could not be subscribed: " + error.message);
      button.disabled = false;
    }
  });
})();
