"""Event codes the gateway logs on its own account (keywords.yaml names the rest)."""

ALARM_NO_PROCESS = "SMSNOPROC"  # an alarm event arrived that no auto process handles
NO_RECIPIENT = "SMSNOREC"  # an auto process fired but the site has no auto-notify contact with a phone
SEND_FAILED = "SMSFAIL"  # the carrier refused a message for good, or retries ran out
SEND_EXPIRED = "SMSSTALE"  # a message outlived its validity in the outbox and was not sent
ON_TEST = "SMSONTEST"  # an alarm arrived for a site on test: logged, no verification text
WEBHOOK_FAILED = "WEBHOOKFAIL"  # a webhook subscriber did not accept a delivery before its max age: given up
OPTED_OUT = "SMSOPTOUT"  # a number opted out of texts (STOP, or the carrier refused it as unsubscribed)
OPTED_IN = "SMSOPTIN"  # a number that had opted out asked for texts again (START)
DISPATCH_SENT = "SMSDISP"  # a Dispatch SMS written by the operator without a template was sent
CONTACT_DELETED = "CONTACTDEL"  # a contact was deleted through the partner API
SITE_NO_CONTACTS = "SITENOCONTACT"  # warning: the deleted contact was the site's last one
WELCOME_SENT = "WELCOMESENT"  # a welcome text with the confirmation link was queued
WELCOME_CONFIRMED = "WELCOMECONF"  # the contact pressed Confirm on the welcome page
LATE_REPLY = "SMSLATE"  # a text recovered from the carrier answered a verification that timed out before it was seen
CANARY_MISSED = "CANARYMISS"  # the canary text did not come back as an inbound text within canary.timeout_seconds
WHICH_ALARM = "SMSWHICH"  # a reply to one of several open alarms named none of them: asked which, nothing changed
CALL_ANSWERED = "CALLANSWER"  # a verification call was answered and a key pressed (or a word said) decided it
CALL_UNANSWERED = "CALLNOANS"  # a verification call ended busy, unanswered, failed, canceled, by a machine, or undecided
PUSH_GONE = "PUSHGONE"  # the push service said a browser's subscription is gone (404/410): it was removed
PUSH_SUBSCRIBED = "PUSHSUB"  # a contact allowed alarm alerts in a browser on the welcome page
