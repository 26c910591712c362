-- Every query the SQLite engine runs, under the same names as sql/postgres/queries.sql.
-- The store (gateway/stores/manager/) is the only caller, through gateway/stores/sqlite/connector.py.
-- aiosql suffixes: ^ one row, $ one value, ! rowcount, <! the new row's id, *! many.
-- Times are ISO 8601 UTC text, booleans 0/1, JSON text: the connector converts both ways.

-- The connector and its migrations

-- name: ping$
SELECT 1;

-- name: take_turn$
-- Not used: one daemon writes a SQLite file, and its in-process locks are enough (gateway/services/ordering.py).
SELECT :key;

-- name: server_version$
SELECT 'SQLite ' || sqlite_version();

-- name: notify$
-- Nothing to send: one daemon serves a SQLite file, and it wakes its own loops in-process.
SELECT NULL;

-- name: lock_migrations$
-- Nothing to take: a migration runs in a write transaction, and SQLite has one writer at a time.
SELECT 1;

-- name: create_schema_migrations!
CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);

-- name: applied_migrations
SELECT name FROM schema_migrations;

-- name: record_migration!
INSERT INTO schema_migrations (name, applied_at) VALUES (:name, :applied_at);

-- name: insert_site!
INSERT INTO sites (id, dealer_id, name, time_zone, created_at)
VALUES (:id, :dealer_id, :name, :time_zone, :created_at);

-- name: get_site^
SELECT * FROM sites WHERE id = :id;

-- name: list_sites
SELECT * FROM sites WHERE (:dealer_id IS NULL OR dealer_id = :dealer_id) ORDER BY created_at, id;

-- name: insert_contact<!
INSERT INTO contacts (site_id, group_id, external_contact_id, first_name, last_name, phone, email,
                      auto_notify, email_notify, title, slot_number, time_zone, on_test_permission, created_at,
                      call_order, quiet_hours, language)
VALUES (:site_id, :group_id, :external_contact_id, :first_name, :last_name, :phone, :email,
        :auto_notify, :email_notify, :title, :slot_number, :time_zone, :on_test_permission, :created_at,
        :call_order, :quiet_hours, :language);

-- name: get_contact^
SELECT * FROM contacts WHERE id = :id;

-- name: list_site_contacts
SELECT * FROM contacts WHERE site_id = :site_id ORDER BY id;

-- name: contacts_by_phone
SELECT * FROM contacts WHERE phone = :phone ORDER BY id;

-- name: phone_lookup
-- The contacts with this number (ORDER BY id) and its interface state as state_* columns, in one read: the
-- first of every inbound text (gateway/stores/manager/pipeline.py). Always one row at least: with no contact
-- its contact columns are NULL; with no state its state_* columns are.
SELECT s.phone AS state_phone, s.session_contact_id AS state_session_contact_id,
       s.session_expires_at AS state_session_expires_at, s.session_duress AS state_session_duress,
       s.failures AS state_failures, s.failures_since AS state_failures_since, s.locked_until AS state_locked_until,
       s.pending_command AS state_pending_command, s.pending_until AS state_pending_until,
       s.replies AS state_replies, s.replies_since AS state_replies_since, s.muted_until AS state_muted_until, c.*
FROM (SELECT CAST(:phone AS text) AS phone) q
LEFT JOIN interface_state s ON s.phone = q.phone
LEFT JOIN contacts c ON c.phone = q.phone
ORDER BY c.id;

-- name: insert_alarm_event!
INSERT INTO alarm_events (id, site_id, event_code, zone, text, received_at)
VALUES (:id, :site_id, :event_code, :zone, :text, :received_at)
ON CONFLICT (id) DO NOTHING;

-- name: get_alarm_event^
SELECT * FROM alarm_events WHERE id = :id;

-- name: insert_inbound^
INSERT INTO inbound_messages (carrier, carrier_message_id, from_phone, to_phone, body, received_at)
VALUES (:carrier, :carrier_message_id, :from_phone, :to_phone, :body, :received_at)
ON CONFLICT (carrier, carrier_message_id) DO NOTHING
RETURNING id;

-- name: insert_verification!
INSERT INTO verifications (id, site_id, event_id, process, status, created_at, timeout_at, method,
                           require_response, message, call_list)
VALUES (:id, :site_id, :event_id, :process, :status, :created_at, :timeout_at, :method,
        :require_response, :message, :call_list);

-- name: insert_recipients*!
INSERT INTO verification_recipients (verification_id, contact_id, phone, email, channel, status, error, step,
                                     due_at)
VALUES (:verification_id, :contact_id, :phone, :email, :channel, :status, :error, :step, :due_at);

-- name: get_verification^
SELECT * FROM verifications WHERE id = :id;

-- name: verification_recipients
SELECT * FROM verification_recipients WHERE verification_id = :verification_id ORDER BY contact_id;

-- name: open_verifications_for_phone
-- The verifications a text from this number may answer, newest first: open ones, and ones
-- another recipient already answered (a later reply is told so) until their timeout. Each row
-- carries its site and alarm event (site_*, alarm_*): no further round trip for the newest's.
SELECT v.*, r.contact_id AS recipient_contact_id,
       trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name,
       s.dealer_id AS site_dealer_id, s.name AS site_name, s.time_zone AS site_time_zone,
       s.on_test_until AS site_on_test_until, s.created_at AS site_created_at,
       a.id AS alarm_id, a.event_code AS alarm_event_code, a.zone AS alarm_zone, a.text AS alarm_text,
       a.received_at AS alarm_received_at
FROM verifications v
JOIN verification_recipients r ON r.verification_id = v.id
JOIN sites s ON s.id = v.site_id
LEFT JOIN alarm_events a ON a.id = v.event_id
LEFT JOIN contacts c ON c.id = v.responded_by
WHERE r.phone = :phone AND r.channel = 'sms' AND r.status NOT IN ('waiting', 'held', 'skipped', 'not_reached')
  AND v.require_response = 1
  AND v.status IN ('pending', 'sent', 'delivered', 'failed', 'responded')
  AND v.timeout_at > :now
ORDER BY v.created_at DESC, v.id DESC;

-- name: respond_verification!
UPDATE verifications
SET status = 'responded', response = :response, responded_at = :at, responded_by = :contact_id
WHERE id = :verification_id AND status NOT IN ('responded', 'expired');

-- name: respond_recipient!
UPDATE verification_recipients
SET response = :response, responded_at = :at
WHERE verification_id = :verification_id AND contact_id = :contact_id;

-- name: expire_verifications
UPDATE verifications SET status = 'expired'
WHERE status IN ('pending', 'sent', 'delivered', 'failed') AND require_response = 1 AND timeout_at <= :now
RETURNING id, site_id, event_id, process, timeout_at;

-- name: recipient_sent!
UPDATE verification_recipients SET status = :status, error = :error
WHERE verification_id = :verification_id AND contact_id = :contact_id AND channel = :channel
  AND status IN ('pending', 'sent');

-- name: verification_all_failed^
-- Whether no recipient of the verification is still reachable.
SELECT count(*) = 0 AS all_failed FROM verification_recipients
WHERE verification_id = :verification_id AND status NOT IN ('failed', 'skipped', 'not_reached');

-- name: verification_failed
UPDATE verifications SET status = 'failed'
WHERE id = :verification_id AND status IN ('pending', 'sent')
RETURNING id, site_id, event_id;

-- name: verification_sent!
UPDATE verifications SET status = 'sent' WHERE id = :verification_id AND status = 'pending';

-- name: insert_outbound*!
INSERT INTO outbound_messages (created_at, updated_at, kind, priority, status, to_phone, from_phone, body,
                               segments, site_id, contact_id, verification_id, inbound_id,
                               next_attempt_at, expires_at, carrier, sent_at, channel, to_address, subject)
VALUES (:created_at, :created_at, :kind, :priority, :status, :to_phone, :from_phone, :body,
        :segments, :site_id, :contact_id, :verification_id, :inbound_id,
        :created_at, :expires_at, :carrier, :sent_at, :channel, :to_address, :subject);

-- name: claim_outbound
-- Due messages, highest priority then oldest first. A 'sending' row whose lease ran out
-- (its sender died) is due again: at-least-once delivery.
UPDATE outbound_messages
SET status = 'sending', attempts = attempts + 1, next_attempt_at = :lease_until, updated_at = :now,
    claimed_by = :claimer
WHERE id IN (SELECT id FROM outbound_messages
             WHERE status IN ('queued', 'sending') AND next_attempt_at <= :now
             ORDER BY priority DESC, id
             LIMIT :limit)
RETURNING *;

-- name: release_leases!
-- At start only: the daemon lock says no other daemon holds a lease.
UPDATE outbound_messages SET status = 'queued', next_attempt_at = :now, updated_at = :now
WHERE status = 'sending';

-- name: release_own_claims!
UPDATE outbound_messages
SET status = 'queued', next_attempt_at = :now, updated_at = :now, attempts = max(attempts - 1, 0)
WHERE status = 'sending' AND claimed_by = :claimer AND id NOT IN (SELECT value FROM json_each(:keep));

-- name: outbound_sent!
UPDATE outbound_messages
SET status = 'sent', carrier = :carrier, carrier_message_id = :carrier_message_id, sent_at = :now,
    updated_at = :now, error_code = NULL, error_message = NULL
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer;

-- name: outbound_retry!
UPDATE outbound_messages
SET status = 'queued', next_attempt_at = :next_attempt_at, updated_at = :now,
    error_code = :error_code, error_message = :error_message
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer;

-- name: outbound_defer!
-- Back to the queue without a carrier call: the claim's attempt is given back.
UPDATE outbound_messages
SET status = 'queued', next_attempt_at = :next_attempt_at, updated_at = :now, attempts = max(attempts - 1, 0),
    error_message = :reason
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer;

-- name: outbound_failed!
UPDATE outbound_messages
SET status = :status, updated_at = :now, error_code = :error_code, error_message = :error_message
WHERE id = :id AND (status = 'queued' OR (status = 'sending' AND claimed_by = :claimer));

-- name: outbox_depth$
SELECT count(*) FROM outbound_messages WHERE status IN ('queued', 'sending');

-- name: outbox_oldest
SELECT kind, min(created_at) AS oldest_at FROM outbound_messages WHERE status IN ('queued', 'sending') GROUP BY kind;

-- name: insert_log*!
INSERT INTO event_log (at, code, site_id, contact_id, phone, verification_id, event_id, comment, details, trace_id)
VALUES (:at, :code, :site_id, :contact_id, :phone, :verification_id, :event_id, :comment, :details, :trace_id);

-- name: event_log_page
SELECT * FROM event_log
WHERE id > :after AND (:site_id IS NULL OR site_id = :site_id)
ORDER BY id
LIMIT :limit;

-- name: insert_api_key!
INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (:id, :name, :key_hash, :created_at);

-- name: get_api_key^
SELECT * FROM api_keys WHERE id = :id AND revoked_at IS NULL;

-- name: revoke_api_key!
UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL;

-- name: list_api_keys
SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id;

-- name: insert_loopback_message<!
INSERT INTO loopback_messages (outbound_id, to_phone, from_phone, body, sent_at, kind)
VALUES (:outbound_id, :to_phone, :from_phone, :body, :sent_at, :kind);

-- name: loopback_messages
SELECT * FROM loopback_messages
WHERE id > :after AND (:to_phone IS NULL OR to_phone = :to_phone)
ORDER BY id
LIMIT :limit;

-- The sending pace as PostgreSQL shares it (one daemon per SQLite file keeps it in memory): the same
-- arithmetic on ISO 8601 text, which orders as the times do.

-- name: reserve_pace^
INSERT INTO sender_pace (sender, full_at)
VALUES (:sender, strftime('%Y-%m-%dT%H:%M:%fZ', :now, printf('%+.6f seconds', :cost_seconds)))
ON CONFLICT (sender) DO UPDATE
SET full_at = strftime('%Y-%m-%dT%H:%M:%fZ', max(full_at, :now), printf('%+.6f seconds', :cost_seconds))
RETURNING full_at;

-- name: refund_pace!
UPDATE sender_pace
SET full_at = max(strftime('%Y-%m-%dT%H:%M:%fZ', full_at, printf('%+.6f seconds', -:cost_seconds)), :now)
WHERE sender = :sender;

-- name: sends_in_flight$
SELECT EXISTS (SELECT 1 FROM outbound_messages WHERE status = 'sending' AND next_attempt_at > :now);

-- SMS interface: site groups, PINs, per-number state, sites on test

-- name: insert_site_group!
INSERT INTO site_groups (id, dealer_id, name, created_at) VALUES (:id, :dealer_id, :name, :created_at);

-- name: get_site_group^
SELECT * FROM site_groups WHERE id = :id;

-- name: list_site_groups
SELECT * FROM site_groups ORDER BY created_at, id;

-- name: add_site_to_group!
INSERT INTO site_group_sites (group_id, site_id) VALUES (:group_id, :site_id) ON CONFLICT DO NOTHING;

-- name: group_sites
SELECT s.* FROM sites s JOIN site_group_sites g ON g.site_id = s.id WHERE g.group_id = :group_id
ORDER BY s.name, s.id;

-- name: set_contact_pin!
UPDATE contacts SET pin_hash = :pin_hash, pin_expires_at = :pin_expires_at WHERE id = :id;

-- name: set_contact_duress_pin!
UPDATE contacts SET duress_pin_hash = :duress_pin_hash WHERE id = :id;

-- name: set_contact_on_test_permission!
UPDATE contacts SET on_test_permission = :allowed WHERE id = :id;

-- name: get_interface_state^
SELECT * FROM interface_state WHERE phone = :phone;

-- name: put_interface_state!
INSERT INTO interface_state (phone, session_contact_id, session_expires_at, session_duress, failures, failures_since,
                             locked_until, pending_command, pending_until, replies, replies_since, muted_until,
                             updated_at)
VALUES (:phone, :session_contact_id, :session_expires_at, :session_duress, :failures, :failures_since,
        :locked_until, :pending_command, :pending_until, :replies, :replies_since, :muted_until, :updated_at)
ON CONFLICT (phone) DO UPDATE SET
    session_contact_id = excluded.session_contact_id, session_expires_at = excluded.session_expires_at,
    session_duress = excluded.session_duress, failures = excluded.failures,
    failures_since = excluded.failures_since, locked_until = excluded.locked_until,
    pending_command = excluded.pending_command, pending_until = excluded.pending_until,
    replies = excluded.replies, replies_since = excluded.replies_since, muted_until = excluded.muted_until,
    updated_at = excluded.updated_at;

-- name: set_site_test!
UPDATE sites SET on_test_until = :until WHERE id = :site_id;

-- name: end_site_tests
-- Sites whose test time ran out: off test now.
UPDATE sites SET on_test_until = NULL WHERE on_test_until IS NOT NULL AND on_test_until <= :now
RETURNING id, name, on_test_until;

-- name: recent_site_events
SELECT * FROM event_log WHERE site_id = :site_id AND code NOT IN (SELECT value FROM json_each(:hidden))
ORDER BY id DESC LIMIT :limit;

-- Webhook events

-- name: insert_webhook_events*!
INSERT INTO webhook_events (event_type, data, created_at) VALUES (:event_type, :data, :created_at);

-- Webhook deliveries

-- name: webhook_events_after_cursor
SELECT e.* FROM webhook_events e, webhook_cursor c WHERE e.id > c.last_event_id ORDER BY e.id LIMIT :limit;

-- name: insert_webhook_deliveries*!
INSERT INTO webhook_deliveries (subscriber, webhook_event_id, next_attempt_at, created_at)
VALUES (:subscriber, :webhook_event_id, :now, :now)
ON CONFLICT (subscriber, webhook_event_id) DO NOTHING;

-- name: advance_webhook_cursor!
UPDATE webhook_cursor SET last_event_id = :last_event_id WHERE last_event_id < :last_event_id;

-- name: claim_webhook_deliveries
-- Due deliveries, oldest first. A 'sending' row whose lease ran out (its dispatcher died)
-- is due again: at-least-once delivery.
UPDATE webhook_deliveries
SET status = 'sending', attempts = attempts + 1, next_attempt_at = :lease_until, claimed_by = :claimer
WHERE id IN (SELECT id FROM webhook_deliveries
             WHERE status IN ('pending', 'sending') AND next_attempt_at <= :now
             ORDER BY id
             LIMIT :limit)
RETURNING id, subscriber, webhook_event_id, attempts;

-- name: webhook_events_by_ids
SELECT * FROM webhook_events WHERE id IN (SELECT value FROM json_each(:ids));

-- name: release_webhook_leases!
-- At start only: the daemon lock says no other daemon holds a lease.
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now WHERE status = 'sending';

-- name: webhook_delivered!
UPDATE webhook_deliveries SET status = 'delivered', delivered_at = :now, last_error = NULL
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer;

-- name: webhook_retry!
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :next_attempt_at, last_error = :error
WHERE id = :id AND status = 'sending' AND claimed_by = :claimer;

-- name: webhook_failed!
UPDATE webhook_deliveries SET status = 'failed', last_error = :error
WHERE id = :id AND (status = 'pending' OR (status = 'sending' AND claimed_by = :claimer));

-- Verifications API: response links, dispatches

-- name: insert_response_token!
INSERT INTO response_tokens (token_hash, verification_id, contact_id, expires_at, channel)
VALUES (:token_hash, :verification_id, :contact_id, :expires_at, :channel);

-- name: get_response_token^
SELECT t.*, v.status AS verification_status, v.process, v.site_id, v.event_id, v.message, v.created_at AS sent_at
FROM response_tokens t JOIN verifications v ON v.id = t.verification_id
WHERE t.token_hash = :token_hash;

-- name: use_response_token!
UPDATE response_tokens SET used_at = :now WHERE token_hash = :token_hash AND used_at IS NULL;

-- name: insert_dispatch!
INSERT INTO dispatches (id, site_id, template, code, created_at, reply_until)
VALUES (:id, :site_id, :template, :code, :created_at, :reply_until);

-- name: insert_dispatch_recipients*!
INSERT INTO dispatch_recipients (dispatch_id, contact_id, phone) VALUES (:dispatch_id, :contact_id, :phone);

-- name: open_dispatches_for_phone
SELECT d.*, r.contact_id AS recipient_contact_id FROM dispatches d
JOIN dispatch_recipients r ON r.dispatch_id = d.id
WHERE r.phone = :phone AND d.reply_until > :now
ORDER BY d.created_at DESC, d.id DESC;

-- Twilio: delivery status, opt-outs, lookups

-- name: lock_carrier_message$
-- Nothing to take: one writer at a time already keeps a send's record and a report about it apart.
SELECT 1;

-- name: insert_delivery_status!
INSERT INTO delivery_statuses (carrier, carrier_message_id, status, error_code, received_at)
VALUES (:carrier, :carrier_message_id, :status, :error_code, :received_at)
ON CONFLICT DO NOTHING;

-- name: delivery_statuses_of
-- The reports recorded for one carrier message, in the order they came.
SELECT status, error_code, received_at FROM delivery_statuses
WHERE carrier = :carrier AND carrier_message_id = :carrier_message_id
ORDER BY received_at, rowid;

-- name: outbound_by_carrier_id^
SELECT * FROM outbound_messages WHERE carrier = :carrier AND carrier_message_id = :carrier_message_id;

-- name: advance_outbound_status^
-- Forward only: a report ranked at or below the one already recorded changes nothing (repeats,
-- late "sent" after "delivered"). A final report settles a 'sent' message as delivered,
-- undelivered or failed; the first final report wins.
UPDATE outbound_messages
SET carrier_status = :status, carrier_status_rank = :rank, updated_at = :now,
    status = CASE WHEN :outcome IS NOT NULL AND status = 'sent' THEN :outcome ELSE status END,
    error_code = coalesce(:error_code, error_code)
WHERE carrier = :carrier AND carrier_message_id = :carrier_message_id AND carrier_status_rank < :rank
RETURNING *;

-- name: verification_delivered!
UPDATE verifications SET status = 'delivered' WHERE id = :verification_id AND status IN ('pending', 'sent');

-- name: get_opt_out^
SELECT * FROM opt_outs WHERE phone = :phone;

-- name: upsert_opt_out!
INSERT INTO opt_outs (phone, opted_out, source, changed_at) VALUES (:phone, :opted_out, :source, :changed_at)
ON CONFLICT (phone) DO UPDATE
SET opted_out = excluded.opted_out, source = excluded.source, changed_at = excluded.changed_at;

-- name: get_phone_lookup^
SELECT * FROM phone_lookups WHERE phone = :phone;

-- name: upsert_phone_lookup!
INSERT INTO phone_lookups (phone, valid, line_type, carrier_name, looked_up_at)
VALUES (:phone, :valid, :line_type, :carrier_name, :looked_up_at)
ON CONFLICT (phone) DO UPDATE
SET valid = excluded.valid, line_type = excluded.line_type, carrier_name = excluded.carrier_name,
    looked_up_at = excluded.looked_up_at;

-- name: set_phone_status!
UPDATE contacts SET phone_status = :phone_status, line_type = :line_type WHERE phone = :phone;


-- Partner API: sites, contacts, OAuth, welcome

-- name: update_contact!
-- A new number has not been looked up: its status is unknown (the right-hand sides see the old row).
UPDATE contacts
SET external_contact_id = :external_contact_id, first_name = :first_name, last_name = :last_name,
    phone = :phone, email = :email, auto_notify = :auto_notify, email_notify = :email_notify,
    title = :title, slot_number = :slot_number, call_order = :call_order, quiet_hours = :quiet_hours,
    time_zone = :time_zone, language = :language,
    phone_status = CASE WHEN phone IS :phone THEN phone_status ELSE 'unknown' END,
    line_type = CASE WHEN phone IS :phone THEN line_type ELSE NULL END
WHERE id = :id;

-- name: delete_contact!
DELETE FROM contacts WHERE id = :id;

-- name: count_site_contacts$
SELECT count(*) FROM contacts WHERE site_id = :site_id;

-- name: detach_open_recipient!
-- A deleted contact stops counting in the verifications still open: its row keeps the
-- history but loses the phone, so a reply from that number can no longer answer them.
UPDATE verification_recipients SET status = 'removed', phone = NULL
WHERE contact_id = :contact_id
  AND verification_id IN (SELECT id FROM verifications
                          WHERE status IN ('pending', 'sent', 'delivered', 'failed'));

-- name: cancel_queued_for_contact!
UPDATE outbound_messages
SET status = 'cancelled', updated_at = :now, error_message = 'the contact was deleted'
WHERE contact_id = :contact_id AND status = 'queued';

-- name: end_contact_sessions!
UPDATE interface_state SET session_contact_id = NULL, session_expires_at = NULL, session_duress = 0,
                           pending_command = NULL, pending_until = NULL, updated_at = :now
WHERE session_contact_id = :contact_id;

-- name: expire_contact_response_tokens!
UPDATE response_tokens SET expires_at = :now WHERE contact_id = :contact_id AND used_at IS NULL AND expires_at > :now;

-- name: delete_welcome!
DELETE FROM contact_welcome WHERE contact_id = :contact_id;

-- name: get_welcome^
SELECT * FROM contact_welcome WHERE contact_id = :contact_id;

-- name: site_welcomes
SELECT w.* FROM contact_welcome w JOIN contacts c ON c.id = w.contact_id WHERE c.site_id = :site_id;

-- name: start_welcome!
INSERT INTO contact_welcome (contact_id, state, send_error, token_hash, token_expires_at, sent_at, updated_at)
VALUES (:contact_id, 'pending', NULL, :token_hash, :token_expires_at, :now, :now)
ON CONFLICT (contact_id) DO UPDATE
SET state = 'pending', send_error = NULL, token_hash = excluded.token_hash,
    token_expires_at = excluded.token_expires_at, sent_at = excluded.sent_at, confirmed_at = NULL,
    updated_at = excluded.updated_at;

-- name: set_welcome_token!
-- The token of the text being sent now; the one of an earlier text stops working.
UPDATE contact_welcome SET token_hash = :token_hash, token_expires_at = :token_expires_at, updated_at = :now
WHERE contact_id = :contact_id AND state != 'confirmed';

-- name: welcome_by_token^
SELECT * FROM contact_welcome WHERE token_hash = :token_hash AND token_expires_at > :now;

-- name: confirm_welcome!
UPDATE contact_welcome SET state = 'confirmed', confirmed_at = :now, send_error = NULL, updated_at = :now
WHERE contact_id = :contact_id AND state != 'confirmed';

-- name: welcome_send_failed!
UPDATE contact_welcome SET state = 'send_error', send_error = :reason, updated_at = :now
WHERE contact_id = :contact_id AND state = 'pending';

-- name: insert_oauth_client!
INSERT INTO oauth_clients (id, name, secret_hash, dealer_id, created_at)
VALUES (:id, :name, :secret_hash, :dealer_id, :created_at);

-- name: get_oauth_client^
SELECT * FROM oauth_clients WHERE id = :id AND revoked_at IS NULL;

-- name: list_oauth_clients
SELECT * FROM oauth_clients ORDER BY created_at, id;

-- name: revoke_oauth_client!
UPDATE oauth_clients SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL;

-- name: delete_client_tokens!
DELETE FROM oauth_tokens WHERE client_id = :client_id;

-- name: delete_expired_tokens!
DELETE FROM oauth_tokens WHERE expires_at <= :now;

-- name: insert_oauth_token!
INSERT INTO oauth_tokens (token_hash, client_id, dealer_id, issued_at, expires_at)
VALUES (:token_hash, :client_id, :dealer_id, :issued_at, :expires_at);

-- name: get_oauth_token^
-- The grant behind a token, with whether its client (when stored here) was revoked since.
SELECT t.*, c.id IS NOT NULL AS stored_client, c.revoked_at AS client_revoked_at
FROM oauth_tokens t LEFT JOIN oauth_clients c ON c.id = t.client_id
WHERE t.token_hash = :token_hash;

-- name: forget_dispatch_recipient!
-- A deleted contact's replies no longer count as answers to a Dispatch SMS.
DELETE FROM dispatch_recipients WHERE contact_id = :contact_id;

-- The operator console: recent verifications, one alarm's or dispatch's rows, failures

-- name: verifications_since
-- Verifications that wait for an answer, opened at or after :since, newest first.
SELECT v.*, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name
FROM verifications v LEFT JOIN contacts c ON c.id = v.responded_by
WHERE v.created_at >= :since AND v.require_response = 1
ORDER BY v.created_at DESC, v.id DESC
LIMIT :limit;

-- name: recipients_of_verifications
SELECT * FROM verification_recipients WHERE verification_id IN (SELECT value FROM json_each(:ids))
ORDER BY verification_id, contact_id, channel;

-- name: verification_log
SELECT * FROM event_log WHERE site_id = :site_id AND verification_id = :verification_id ORDER BY id LIMIT :limit;

-- name: dispatch_log
SELECT * FROM event_log WHERE site_id = :site_id AND json_extract(details, '$.dispatch_id') = :dispatch_id
ORDER BY id LIMIT :limit;

-- name: get_dispatch^
SELECT * FROM dispatches WHERE id = :id;

-- name: dispatch_recipients
SELECT contact_id, phone FROM dispatch_recipients WHERE dispatch_id = :dispatch_id ORDER BY contact_id;

-- name: send_failures_since
-- Texts given up or reported undelivered since :since, by the carrier's error code.
SELECT coalesce(error_code, '') AS error_code, count(*) AS n FROM outbound_messages
WHERE status IN ('failed', 'undelivered') AND updated_at >= :since AND channel = 'sms'
GROUP BY coalesce(error_code, '');

-- name: last_failed_texts
-- Each contact of the site's newest text that failed or was undelivered.
SELECT o.* FROM contacts c
JOIN outbound_messages o ON o.id = (SELECT max(id) FROM outbound_messages
                                   WHERE contact_id = c.id AND status IN ('failed', 'undelivered')
                                     AND channel = 'sms')
WHERE c.site_id = :site_id;

-- gateway trace: what happened to a number, a verification, a site's last alarm

-- name: outbound_texts_to_phone
-- The newest :limit texts to the number, oldest first.
SELECT * FROM (SELECT * FROM outbound_messages WHERE to_phone = :phone AND channel = 'sms' ORDER BY id DESC LIMIT :limit)
ORDER BY id;

-- name: outbound_of_verification
SELECT * FROM outbound_messages WHERE verification_id = :verification_id ORDER BY id LIMIT :limit;

-- name: carrier_reports_of_outbound
-- Every report the carrier sent on these messages, oldest first (by arrival, then by how far it went).
SELECT o.id AS outbound_id, d.status, d.error_code, d.received_at
FROM outbound_messages o
JOIN delivery_statuses d ON d.carrier = o.carrier AND d.carrier_message_id = o.carrier_message_id
WHERE o.id IN (SELECT value FROM json_each(:ids))
ORDER BY o.id, d.received_at, d.rowid;

-- name: inbound_texts_from_phone
SELECT * FROM (SELECT * FROM inbound_messages WHERE from_phone = :phone ORDER BY id DESC LIMIT :limit) ORDER BY id;

-- name: verifications_for_phone
SELECT v.*, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name
FROM verifications v LEFT JOIN contacts c ON c.id = v.responded_by
WHERE v.id IN (SELECT verification_id FROM verification_recipients WHERE phone = :phone AND channel = 'sms')
ORDER BY v.created_at DESC, v.id DESC
LIMIT :limit;

-- name: site_verifications
SELECT v.*, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name
FROM verifications v LEFT JOIN contacts c ON c.id = v.responded_by
WHERE v.site_id = :site_id
ORDER BY v.created_at DESC, v.id DESC
LIMIT :limit;

-- name: phone_log
SELECT * FROM (SELECT * FROM event_log WHERE phone = :phone ORDER BY id DESC LIMIT :limit) ORDER BY id;

-- name: alarm_log
SELECT * FROM event_log WHERE site_id = :site_id AND event_id = :event_id ORDER BY id LIMIT :limit;

-- name: get_last_alarm_event^
SELECT * FROM alarm_events WHERE site_id = :site_id ORDER BY received_at DESC, rowid DESC LIMIT 1;

-- Recovery from the carrier: the inbound texts recorded, the verifications a late text could have answered

-- name: newest_inbound_at^
SELECT max(received_at) AS received_at FROM inbound_messages WHERE carrier = :carrier AND to_phone = :to_phone;

-- name: seen_inbound
SELECT carrier_message_id FROM inbound_messages
WHERE carrier = :carrier AND carrier_message_id IN (SELECT value FROM json_each(:ids));

-- name: verifications_open_at
-- Whatever became of them since: a text that came late is judged by what was open when it was sent.
SELECT v.*, r.contact_id AS recipient_contact_id,
       trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name
FROM verifications v
JOIN verification_recipients r ON r.verification_id = v.id
LEFT JOIN contacts c ON c.id = v.responded_by
WHERE r.phone = :phone AND r.channel = 'sms' AND v.require_response = 1
  AND r.status NOT IN ('waiting', 'held', 'skipped', 'not_reached')
  AND v.created_at <= :at AND v.timeout_at > :at
ORDER BY v.created_at DESC, v.id DESC;

-- name: insert_loopback_inbound^
INSERT INTO loopback_inbound (message_id, from_phone, to_phone, body, received_at)
VALUES (:message_id, :from_phone, :to_phone, :body, :received_at)
ON CONFLICT (message_id) DO NOTHING
RETURNING id;

-- name: loopback_inbound
SELECT * FROM loopback_inbound WHERE to_phone = :to_phone AND received_at >= :since
ORDER BY received_at, id
LIMIT :limit;

-- name: reply_refs_for_phone
-- The reply references a phone holds, each with the state of the verification it came with, and the site and
-- alarm it names (a reply may name an alarm that closed since).
SELECT rr.ref, rr.alarm_key, rr.verification_id, rr.created_at, v.status, v.timeout_at, s.name AS site_name,
       a.id AS alarm_id, a.site_id AS alarm_site_id, a.event_code AS alarm_event_code, a.zone AS alarm_zone,
       a.text AS alarm_text, a.received_at AS alarm_received_at
FROM reply_refs rr
JOIN verifications v ON v.id = rr.verification_id
JOIN sites s ON s.id = rr.site_id
LEFT JOIN alarm_events a ON a.id = rr.alarm_key
WHERE rr.phone = :phone AND rr.held_until > :now
ORDER BY rr.ref;

-- name: hold_reply_ref^
-- Hold a reference for a phone: a free one, the same alarm's again (another process of it: held as long as the
-- longest), or one whose hold ran out. No row back: another alarm holds it (two alarms decided at once).
INSERT INTO reply_refs (phone, ref, alarm_key, verification_id, site_id, created_at, held_until)
VALUES (:phone, :ref, :alarm_key, :verification_id, :site_id, :created_at, :held_until)
ON CONFLICT (phone, ref) DO UPDATE SET
    -- the alarm's longest-lived verification stands for it (its processes are answered together)
    verification_id = CASE WHEN reply_refs.alarm_key = excluded.alarm_key AND reply_refs.held_until >= excluded.held_until
                           THEN reply_refs.verification_id ELSE excluded.verification_id END,
    created_at = CASE WHEN reply_refs.alarm_key = excluded.alarm_key THEN reply_refs.created_at
                      ELSE excluded.created_at END,
    held_until = CASE WHEN reply_refs.alarm_key = excluded.alarm_key
                      THEN max(reply_refs.held_until, excluded.held_until) ELSE excluded.held_until END,
    alarm_key = excluded.alarm_key, site_id = excluded.site_id
WHERE reply_refs.alarm_key = excluded.alarm_key OR reply_refs.held_until <= excluded.created_at
RETURNING ref;


-- Call lists: the steps of in-order verifications, and contacts held for quiet hours

-- name: due_call_lists
SELECT DISTINCT r.verification_id AS id FROM verification_recipients r
JOIN verifications v ON v.id = r.verification_id
-- removed: a deleted contact whose step was due; the list moves past it
WHERE r.status IN ('waiting', 'held', 'removed') AND r.due_at <= :now
  AND v.status IN ('pending', 'sent', 'delivered', 'failed')
LIMIT :limit;

-- name: next_call_list_due^
SELECT min(r.due_at) AS due_at FROM verification_recipients r
JOIN verifications v ON v.id = r.verification_id
WHERE r.status IN ('waiting', 'held', 'removed') AND r.due_at IS NOT NULL
  AND v.status IN ('pending', 'sent', 'delivered', 'failed');

-- name: lock_call_list^
-- SQLite runs one write transaction at a time: the row needs no lock.
SELECT * FROM verifications WHERE id = :id AND status IN ('pending', 'sent', 'delivered', 'failed');

-- name: update_recipient_step!
UPDATE verification_recipients SET status = :status, error = :error, due_at = :due_at
WHERE verification_id = :verification_id AND contact_id = :contact_id AND channel = :channel;

-- name: set_verification_timeout!
UPDATE verifications SET timeout_at = :timeout_at WHERE id = :id;

-- name: end_call_list!
-- The list ended (answered or expired): whoever it had not reached yet never will be.
UPDATE verification_recipients
SET status = CASE WHEN status IN ('waiting', 'held') THEN 'not_reached' ELSE status END, due_at = NULL
WHERE verification_id = :verification_id AND (status IN ('waiting', 'held') OR due_at IS NOT NULL);

-- The call and push methods (0015_channels)

-- name: loopback_call^
-- A call the loopback carrier placed, with its outbox row's status: 'sent' while it is still ringing or talking.
SELECT m.id, m.outbound_id, m.to_phone, m.body, o.status AS outbound_status, o.carrier, o.carrier_message_id
FROM loopback_messages m JOIN outbound_messages o ON o.id = m.outbound_id
WHERE m.id = :id AND m.kind = 'call';

-- name: save_push_subscription!
-- One browser is one endpoint: subscribing it again (another contact, new keys) replaces what it held.
INSERT INTO push_subscriptions (contact_id, endpoint, p256dh, auth, created_at)
VALUES (:contact_id, :endpoint, :p256dh, :auth, :created_at)
ON CONFLICT (endpoint) DO UPDATE SET contact_id = excluded.contact_id, p256dh = excluded.p256dh,
    auth = excluded.auth, created_at = excluded.created_at;

-- name: push_subscriptions
SELECT * FROM push_subscriptions WHERE contact_id = :contact_id ORDER BY id;

-- name: delete_push_subscription!
DELETE FROM push_subscriptions WHERE endpoint = :endpoint;
