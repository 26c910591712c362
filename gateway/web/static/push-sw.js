// The push alerts' service worker: shows a verification with Confirm and Cancel, and answers it.
// A push's payload (gateway/push/webpush.py) carries the one-time links the email method uses: an action
// answers through its link (a POST, as the page's button does); a click on the notification itself, or
// on a browser that shows no actions, opens the page that offers both.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let alert = {};
  try {
    alert = event.data ? event.data.json() : {};
  } catch (error) {
    alert = {body: event.data ? event.data.text() : ""};
  }
  const links = alert.links || {};
  const actions = links.confirm ? [{action: "confirm", title: "Confirm"}, {action: "cancel", title: "Cancel"}] : [];
  event.waitUntil(self.registration.showNotification(alert.title || "Alarm verification", {
    body: alert.body || "", tag: alert.tag, requireInteraction: true, renotify: true, actions: actions,
    data: {open: alert.open || null, links: links},
  }));
});

async function answer(data, action) {
  const link = data.links && data.links[action];
  if (!link) {
    return open(data);
  }
  const response = await fetch(link, {method: "POST", credentials: "omit", redirect: "error"});
  if (!response.ok) {
    return open(data, link);  // used, expired or answered by someone else: the page says which
  }
  return self.registration.showNotification(action === "confirm" ? "Alarm confirmed" : "Alarm cancelled", {
    body: "Thank you. The central station has your answer.", tag: "answered",
  });
}

function open(data, link) {
  const page = link || data.open;
  return page ? self.clients.openWindow(page) : undefined;
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(event.action ? answer(data, event.action) : open(data));
});
