"""Web Push (RFC 8030) to the browsers contacts subscribed on the welcome page: the push method.

``vapid`` holds the gateway's VAPID key pair (RFC 8292: made on first start, or read from
``push.vapid_private_key_file``); ``webpush`` encrypts each alert for its subscription (RFC 8291,
aes128gcm) and posts it to the browser's push service. No vendor account: any browser's push
service takes a message signed with the gateway's VAPID key.
"""

from __future__ import annotations

from gateway.push.webpush import WebPush

__all__ = ["WebPush"]
