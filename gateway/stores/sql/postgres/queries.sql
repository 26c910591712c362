-- Every query the PostgreSQL engine runs, under the same names as sql/sqlite/queries.sql.
-- The store (gateway/stores/manager/) is the only caller, through gateway/stores/postgres/connector.py.
-- aiosql suffixes: ^ one row, $ one value, ! rowcount, <! the new row's id (RETURNING id), *! many.
-- A parameter that may be NULL where nothing else gives it a type is cast: asyncpg must know it.
-- Claims take rows with FOR UPDATE SKIP LOCKED: daemons claiming at once never take the same row.

-- The connector and its migrations

-- name: ping$
SELECT 1;

-- name: take_turn$
-- A lock held until the transaction ends (a two-int key: its own space, apart from the migration lock's
-- bigint), taken first in the transaction of a text's read, decision and commit (gateway/stores/postgres/turns.py).
SELECT pg_advisory_xact_lock(1196887809, :key) IS NULL;

-- name: server_version$
SELECT 'PostgreSQL ' || current_setting('server_version');

-- name: notify$
-- Delivered to every listener on the channel (in any daemon) when the transaction commits; never if not.
SELECT pg_notify(:channel, :payload);

-- name: lock_migrations$
-- Held until the migration's transaction ends: a second `gateway migrate` waits, then sees it done.
SELECT 1 FROM pg_advisory_xact_lock(7245031197642265601);

-- name: create_schema_migrations!
CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL);

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
SELECT * FROM sites WHERE (CAST(:dealer_id AS text) IS NULL OR dealer_id = :dealer_id) ORDER BY created_at, id;

-- name: insert_contact<!
INSERT INTO contacts (site_id, group_id, external_contact_id, first_name, last_name, phone, email,
                      auto_notify, email_notify, title, slot_number, time_zone, on_test_permission, created_at,
                      call_order, quiet_hours, language)
VALUES (:site_id, :group_id, :external_contact_id, :first_name, :last_name, :phone, :email,
        :auto_notify, :email_notify, :title, :slot_number, :time_zone, :on_test_permission, :created_at,
        :call_order, :quiet_hours, :language)
RETURNING id;

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

-- name: commit_decision$
-- A whole decision's writes in one round trip (migrations/0016_one_trip.sql): the rows of the store's body for
-- it, as one document (gateway/stores/manager/pipeline.py).
SELECT gateway_commit_decision(:rows);

-- name: inbound_view^
-- Every read of an inbound text in one round trip (gateway/stores/manager/pipeline.py): the number's contacts and
-- interface state; with a contact, the verifications it may answer and the dispatches open to it; with one of
-- those verifications, the reply references it holds. Each an array of the rows the read of its own returns.
SELECT k.contacts, k.state, k.open, k.dispatches,
       CASE WHEN cardinality(k.open) > 0 THEN ARRAY(
           SELECT h FROM gateway_held_refs h WHERE h.phone = :phone AND h.held_until > :now ORDER BY h.ref) END AS refs
FROM (SELECT q.contacts, q.state,
             CASE WHEN cardinality(q.contacts) > 0 THEN ARRAY(
                 SELECT o FROM gateway_open_verifications o WHERE o.recipient_phone = :phone AND o.timeout_at > :now
                 ORDER BY o.created_at DESC, o.id DESC) END AS open,
             CASE WHEN cardinality(q.contacts) > 0 THEN ARRAY(
                 SELECT d FROM gateway_open_dispatches d WHERE d.recipient_phone = :phone AND d.reply_until > :now
                 ORDER BY d.created_at DESC, d.id DESC) END AS dispatches
      FROM (SELECT ARRAY(SELECT c FROM contacts c WHERE c.phone = CAST(:phone AS text) ORDER BY c.id) AS contacts,
                   (SELECT s FROM interface_state s WHERE s.phone = CAST(:phone AS text)) AS state) q) k;

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
SELECT * FROM gateway_open_verifications WHERE recipient_phone = :phone AND timeout_at > :now
ORDER BY created_at DESC, id DESC;

-- name: respond_verification!
UPDATE verifications
SET status = 'responded', response = :response, responded_at = :at, responded_by = :contact_id
WHERE id = :verification_id AND status NOT IN ('responded', 'expired');

-- name: respond_recipient!
UPDATE verification_recipients
SET response = :response, responded_at = :at
WHERE verification_id = :verification_id AND contact_id = :contact_id;

-- name: expire_verifications
-- Rows another daemon's pass is expiring are skipped: each verification is expired once.
UPDATE verifications SET status = 'expired'
WHERE id IN (SELECT id FROM verifications
             WHERE status IN ('pending', 'sent', 'delivered', 'failed') AND require_response AND timeout_at <= :now
             FOR UPDATE SKIP LOCKED)
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
             LIMIT :limit
             FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: release_leases!
-- At start only: the daemon lock says no other daemon holds a lease.
UPDATE outbound_messages SET status = 'queued', next_attempt_at = :now, updated_at = :now
WHERE status = 'sending';

-- name: release_own_claims!
-- This daemon's claims it is not sending (a claim whose answer was lost with the connection): due now.
UPDATE outbound_messages
SET status = 'queued', next_attempt_at = :now, updated_at = :now, attempts = greatest(attempts - 1, 0)
WHERE status = 'sending' AND claimed_by = :claimer AND id <> ALL(CAST(:keep AS bigint[]));

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
SET status = 'queued', next_attempt_at = :next_attempt_at, updated_at = :now, attempts = greatest(attempts - 1, 0),
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
-- Only rows whose transaction ended before any still open began, in (tx, id) order, after the cursor
-- row's (tx, id): a row committed late by a lower id is served later, never skipped (migration
-- 0012_paging). A cursor that names no row pages by id alone.
WITH cursor_row AS (SELECT coalesce((SELECT tx FROM event_log WHERE id = :after), -1) AS tx),
     horizon AS (SELECT paging_horizon() AS xmin)
SELECT e.* FROM event_log e, cursor_row c, horizon h
WHERE (e.tx, e.id) > (c.tx, :after) AND (c.tx >= 0 OR e.id > :after) AND e.tx < h.xmin
  AND (CAST(:site_id AS text) IS NULL OR e.site_id = :site_id)
ORDER BY e.tx, e.id
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
VALUES (:outbound_id, :to_phone, :from_phone, :body, :sent_at, :kind)
RETURNING id;

-- name: loopback_messages
-- Paged as event_log_page is: never past a row whose transaction is still open.
WITH cursor_row AS (SELECT coalesce((SELECT tx FROM loopback_messages WHERE id = :after), -1) AS tx),
     horizon AS (SELECT paging_horizon() AS xmin)
SELECT m.* FROM loopback_messages m, cursor_row c, horizon h
WHERE (m.tx, m.id) > (c.tx, :after) AND (c.tx >= 0 OR m.id > :after) AND m.tx < h.xmin
  AND (CAST(:to_phone AS text) IS NULL OR m.to_phone = :to_phone)
ORDER BY m.tx, m.id
LIMIT :limit;

-- The sending pace shared by the daemons (gateway/loops/pace.py): one statement per reservation.

-- name: reserve_pace^
-- Take cost_seconds of the sender's budget: its bucket is full again that much later than now or than it
-- already was; the new time (the reservation's turn is this minus cost_seconds, less the bucket's room).
INSERT INTO sender_pace AS p (sender, full_at)
VALUES (:sender, CAST(:now AS timestamptz) + make_interval(secs => :cost_seconds))
ON CONFLICT (sender) DO UPDATE
SET full_at = greatest(p.full_at, CAST(:now AS timestamptz)) + make_interval(secs => :cost_seconds)
RETURNING full_at;

-- name: refund_pace!
UPDATE sender_pace SET full_at = greatest(full_at - make_interval(secs => :cost_seconds), CAST(:now AS timestamptz))
WHERE sender = :sender;

-- name: sends_in_flight$
-- A message claimed for sending right now, by any daemon (its carrier call may be under way).
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
-- Sites whose test time ran out: off test now (by one daemon: rows another is ending are skipped).
UPDATE sites SET on_test_until = NULL
WHERE id IN (SELECT id FROM sites WHERE on_test_until IS NOT NULL AND on_test_until <= :now FOR UPDATE SKIP LOCKED)
RETURNING id, name, on_test_until;

-- name: recent_site_events
SELECT * FROM event_log WHERE site_id = :site_id AND code <> ALL (CAST(:hidden AS text[]))
ORDER BY id DESC LIMIT :limit;

-- Webhook events

-- name: insert_webhook_events*!
INSERT INTO webhook_events (event_type, data, created_at) VALUES (:event_type, :data, :created_at);

-- Webhook deliveries

-- name: webhook_events_after_cursor
-- The cursor's row stays locked until the fan-out commits: two daemons fan out one after the other.
-- Only events whose transaction ended before any still open here began, in (tx, id) order (0012_paging).
WITH c AS (SELECT last_tx, last_event_id FROM webhook_cursor WHERE id = 1 FOR UPDATE)
SELECT e.* FROM webhook_events e, c
WHERE (e.tx, e.id) > (c.last_tx, c.last_event_id)
  AND e.tx < paging_horizon()
ORDER BY e.tx, e.id LIMIT :limit;

-- name: insert_webhook_deliveries*!
INSERT INTO webhook_deliveries (subscriber, webhook_event_id, next_attempt_at, created_at)
VALUES (:subscriber, :webhook_event_id, :now, :now)
ON CONFLICT (subscriber, webhook_event_id) DO NOTHING;

-- name: advance_webhook_cursor!
UPDATE webhook_cursor SET last_tx = :last_tx, last_event_id = :last_event_id
WHERE (last_tx, last_event_id) < (:last_tx, :last_event_id);

-- name: claim_webhook_deliveries
-- Due deliveries, oldest first. A 'sending' row whose lease ran out (its dispatcher died)
-- is due again: at-least-once delivery.
UPDATE webhook_deliveries
SET status = 'sending', attempts = attempts + 1, next_attempt_at = :lease_until, claimed_by = :claimer
WHERE id IN (SELECT id FROM webhook_deliveries
             WHERE status IN ('pending', 'sending') AND next_attempt_at <= :now
             ORDER BY id
             LIMIT :limit
             FOR UPDATE SKIP LOCKED)
RETURNING id, subscriber, webhook_event_id, attempts;

-- name: webhook_events_by_ids
SELECT * FROM webhook_events WHERE id = ANY (CAST(:ids AS bigint[]));

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
SELECT * FROM gateway_open_dispatches WHERE recipient_phone = :phone AND reply_until > :now
ORDER BY created_at DESC, id DESC;

-- Twilio: delivery status, opt-outs, lookups

-- name: lock_carrier_message$
-- Taken first by the transaction that records a send's carrier id and by the one that records a report about it
-- (gateway/stores/manager/outbox.py): on two daemons at once each read missed the other's uncommitted row, and
-- the report stayed kept, never applied. A two-int key in its own space (take_turn's is 1196887809).
SELECT 1 FROM pg_advisory_xact_lock(1196887810, hashtext(:carrier || ' ' || :carrier_message_id));

-- name: insert_delivery_status!
INSERT INTO delivery_statuses (carrier, carrier_message_id, status, error_code, received_at)
VALUES (:carrier, :carrier_message_id, :status, :error_code, :received_at)
ON CONFLICT DO NOTHING;

-- name: delivery_statuses_of
-- The reports recorded for one carrier message, in the order they came (a tie: by the status's place in a
-- report's life, as carrier_reports_of_outbound).
SELECT status, error_code, received_at FROM delivery_statuses
WHERE carrier = :carrier AND carrier_message_id = :carrier_message_id
ORDER BY received_at,
         array_position(ARRAY['accepted', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                              'read'], status), status;

-- name: outbound_by_carrier_id^
SELECT * FROM outbound_messages WHERE carrier = :carrier AND carrier_message_id = :carrier_message_id;

-- name: advance_outbound_status^
-- Forward only: a report ranked at or below the one already recorded changes nothing (repeats,
-- late "sent" after "delivered"). A final report settles a 'sent' message as delivered,
-- undelivered or failed; the first final report wins.
UPDATE outbound_messages
SET carrier_status = :status, carrier_status_rank = :rank, updated_at = :now,
    status = CASE WHEN CAST(:outcome AS text) IS NOT NULL AND status = 'sent' THEN :outcome ELSE status END,
    error_code = coalesce(CAST(:error_code AS text), error_code)
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
    phone_status = CASE WHEN phone IS NOT DISTINCT FROM :phone THEN phone_status ELSE 'unknown' END,
    line_type = CASE WHEN phone IS NOT DISTINCT FROM :phone THEN line_type ELSE NULL END
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
UPDATE interface_state SET session_contact_id = NULL, session_expires_at = NULL, session_duress = false,
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
WHERE v.created_at >= :since AND v.require_response
ORDER BY v.created_at DESC, v.id DESC
LIMIT :limit;

-- name: recipients_of_verifications
SELECT * FROM verification_recipients WHERE verification_id = ANY (CAST(:ids AS text[]))
ORDER BY verification_id, contact_id, channel;

-- name: verification_log
SELECT * FROM event_log WHERE site_id = :site_id AND verification_id = :verification_id ORDER BY id LIMIT :limit;

-- name: dispatch_log
SELECT * FROM event_log WHERE site_id = :site_id AND details ->> 'dispatch_id' = :dispatch_id
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
SELECT * FROM (SELECT * FROM outbound_messages WHERE to_phone = :phone AND channel = 'sms'
               ORDER BY id DESC LIMIT :limit) newest
ORDER BY id;

-- name: outbound_of_verification
SELECT * FROM outbound_messages WHERE verification_id = :verification_id ORDER BY id LIMIT :limit;

-- name: carrier_reports_of_outbound
-- Every report the carrier sent on these messages, oldest first (by arrival, then by how far it went:
-- PostgreSQL keeps no insertion order, so a tie sorts by the status's place in a report's life).
SELECT o.id AS outbound_id, d.status, d.error_code, d.received_at
FROM outbound_messages o
JOIN delivery_statuses d ON d.carrier = o.carrier AND d.carrier_message_id = o.carrier_message_id
WHERE o.id = ANY (CAST(:ids AS bigint[]))
ORDER BY o.id, d.received_at,
         array_position(ARRAY['accepted', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                              'read'], d.status), d.status;

-- name: inbound_texts_from_phone
SELECT * FROM (SELECT * FROM inbound_messages WHERE from_phone = :phone ORDER BY id DESC LIMIT :limit) newest
ORDER BY id;

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
SELECT * FROM (SELECT * FROM event_log WHERE phone = :phone ORDER BY id DESC LIMIT :limit) newest ORDER BY id;

-- name: alarm_log
SELECT * FROM event_log WHERE site_id = :site_id AND event_id = :event_id ORDER BY id LIMIT :limit;

-- name: get_last_alarm_event^
SELECT * FROM alarm_events WHERE site_id = :site_id ORDER BY received_at DESC, id DESC LIMIT 1;

-- Recovery from the carrier: the inbound texts recorded, the verifications a late text could have answered

-- name: newest_inbound_at^
SELECT max(received_at) AS received_at FROM inbound_messages WHERE carrier = :carrier AND to_phone = :to_phone;

-- name: seen_inbound
SELECT carrier_message_id FROM inbound_messages
WHERE carrier = :carrier AND carrier_message_id = ANY (CAST(:ids AS text[]));

-- name: verifications_open_at
-- Whatever became of them since: a text that came late is judged by what was open when it was sent.
SELECT v.*, r.contact_id AS recipient_contact_id,
       trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')) AS responder_name
FROM verifications v
JOIN verification_recipients r ON r.verification_id = v.id
LEFT JOIN contacts c ON c.id = v.responded_by
WHERE r.phone = :phone AND r.channel = 'sms' AND v.require_response
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
SELECT * FROM gateway_held_refs WHERE phone = :phone AND held_until > :now ORDER BY ref;

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
                      THEN GREATEST(reply_refs.held_until, excluded.held_until) ELSE excluded.held_until END,
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
-- A call list another daemon is working on is skipped: each step is reached once.
SELECT * FROM verifications WHERE id = :id AND status IN ('pending', 'sent', 'delivered', 'failed')
FOR UPDATE SKIP LOCKED;

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
