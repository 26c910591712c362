-- A decision's writes in one round trip (gateway/stores/manager/pipeline.py, `commit_decision` in queries.sql):
-- each write a text or alarm makes was a statement of its own, a round trip each to a server on the same cores.
-- The rows are the ones the store's generic body writes one statement at a time, built once in Python, in one
-- jsonb document; this runs the same statements in the same order with the same stops: an inbound message or
-- alarm event seen before writes nothing more ({"duplicate": true}); a reply reference another alarm holds
-- ({"stale_ref": i}) or a response to a verification no longer open ({"stale_response": i}) stops it, and the
-- caller raises StaleDecision, which rolls the whole transaction back. Otherwise {"inbound_id": id or null}.
-- A group with no rows is left out of the document (gateway/stores/postgres/values.py): its statement is skipped.
CREATE FUNCTION gateway_commit_decision(d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    new_inbound bigint;
    e jsonb;
    i bigint;
    changed bigint;
BEGIN
    IF jsonb_typeof(d -> 'inbound') = 'object' THEN
        INSERT INTO inbound_messages (carrier, carrier_message_id, from_phone, to_phone, body, received_at)
        SELECT r.carrier, r.carrier_message_id, r.from_phone, r.to_phone, r.body, r.received_at
        FROM jsonb_populate_record(NULL::inbound_messages, d -> 'inbound') r
        ON CONFLICT (carrier, carrier_message_id) DO NOTHING
        RETURNING id INTO new_inbound;
        IF new_inbound IS NULL THEN
            RETURN '{"duplicate": true}';
        END IF;
    END IF;
    IF jsonb_typeof(d -> 'alarm') = 'object' THEN
        INSERT INTO alarm_events (id, site_id, event_code, zone, text, received_at)
        SELECT r.id, r.site_id, r.event_code, r.zone, r.text, r.received_at
        FROM jsonb_populate_record(NULL::alarm_events, d -> 'alarm') r
        ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS changed = ROW_COUNT;
        IF changed = 0 THEN
            RETURN '{"duplicate": true}';
        END IF;
    END IF;
    IF d ? 'verifications' THEN
        INSERT INTO verifications (id, site_id, event_id, process, status, created_at, timeout_at, method,
                                   require_response, message, call_list)
        SELECT r.id, r.site_id, r.event_id, r.process, r.status, r.created_at, r.timeout_at, r.method,
               r.require_response, r.message, r.call_list
        FROM jsonb_array_elements(d -> 'verifications') WITH ORDINALITY AS x(j, n),
             jsonb_populate_record(NULL::verifications, x.j) r
        ORDER BY x.n;
    END IF;
    IF d ? 'recipients' THEN
        INSERT INTO verification_recipients (verification_id, contact_id, phone, email, channel, status, error, step,
                                             due_at)
        SELECT r.verification_id, r.contact_id, r.phone, r.email, r.channel, r.status, r.error, r.step, r.due_at
        FROM jsonb_array_elements(d -> 'recipients') WITH ORDINALITY AS x(j, n),
             jsonb_populate_record(NULL::verification_recipients, x.j) r
        ORDER BY x.n;
    END IF;
    IF d ? 'refs' THEN
        FOR e, i IN SELECT x.j, x.n FROM jsonb_array_elements(d -> 'refs') WITH ORDINALITY AS x(j, n) ORDER BY x.n LOOP
            INSERT INTO reply_refs AS rr (phone, ref, alarm_key, verification_id, site_id, created_at, held_until)
            SELECT r.phone, r.ref, r.alarm_key, r.verification_id, r.site_id, r.created_at, r.held_until
            FROM jsonb_populate_record(NULL::reply_refs, e) r
            ON CONFLICT (phone, ref) DO UPDATE SET
                verification_id = CASE WHEN rr.alarm_key = excluded.alarm_key AND rr.held_until >= excluded.held_until
                                       THEN rr.verification_id ELSE excluded.verification_id END,
                created_at = CASE WHEN rr.alarm_key = excluded.alarm_key THEN rr.created_at ELSE excluded.created_at END,
                held_until = CASE WHEN rr.alarm_key = excluded.alarm_key
                                  THEN GREATEST(rr.held_until, excluded.held_until) ELSE excluded.held_until END,
                alarm_key = excluded.alarm_key, site_id = excluded.site_id
            WHERE rr.alarm_key = excluded.alarm_key OR rr.held_until <= excluded.created_at;
            GET DIAGNOSTICS changed = ROW_COUNT;
            IF changed = 0 THEN
                RETURN jsonb_build_object('stale_ref', i - 1);
            END IF;
        END LOOP;
    END IF;
    IF d ? 'dispatches' THEN
        INSERT INTO dispatches (id, site_id, template, code, created_at, reply_until)
        SELECT r.id, r.site_id, r.template, r.code, r.created_at, r.reply_until
        FROM jsonb_array_elements(d -> 'dispatches') WITH ORDINALITY AS x(j, n),
             jsonb_populate_record(NULL::dispatches, x.j) r
        ORDER BY x.n;
    END IF;
    IF d ? 'dispatch_recipients' THEN
        INSERT INTO dispatch_recipients (dispatch_id, contact_id, phone)
        SELECT r.dispatch_id, r.contact_id, r.phone
        FROM jsonb_array_elements(d -> 'dispatch_recipients') WITH ORDINALITY AS x(j, n),
             jsonb_populate_record(NULL::dispatch_recipients, x.j) r
        ORDER BY x.n;
    END IF;
    IF d ? 'responses' THEN
        FOR e, i IN SELECT x.j, x.n FROM jsonb_array_elements(d -> 'responses') WITH ORDINALITY AS x(j, n)
                    ORDER BY x.n LOOP
            UPDATE verifications
            SET status = 'responded', response = e ->> 'response', responded_at = CAST(e ->> 'at' AS timestamptz),
                responded_by = CAST(e ->> 'contact_id' AS bigint)
            WHERE id = e ->> 'verification_id' AND status NOT IN ('responded', 'expired');
            GET DIAGNOSTICS changed = ROW_COUNT;
            IF changed = 0 THEN
                RETURN jsonb_build_object('stale_response', i - 1);
            END IF;
            UPDATE verification_recipients
            SET response = e ->> 'response', responded_at = CAST(e ->> 'at' AS timestamptz)
            WHERE verification_id = e ->> 'verification_id' AND contact_id = CAST(e ->> 'contact_id' AS bigint);
            UPDATE verification_recipients
            SET status = CASE WHEN status IN ('waiting', 'held') THEN 'not_reached' ELSE status END, due_at = NULL
            WHERE verification_id = e ->> 'verification_id' AND (status IN ('waiting', 'held') OR due_at IS NOT NULL);
        END LOOP;
    END IF;
    -- The outbox rows, then the replies sent inline (they name the inbound message just recorded).
    IF d ? 'outbound' OR d ? 'replies' THEN
        INSERT INTO outbound_messages (created_at, updated_at, kind, priority, status, to_phone, from_phone, body,
                                       segments, site_id, contact_id, verification_id, inbound_id,
                                       next_attempt_at, expires_at, carrier, sent_at, channel, to_address, subject)
        SELECT r.created_at, r.created_at, r.kind, r.priority, r.status, r.to_phone, r.from_phone, r.body,
               r.segments, r.site_id, r.contact_id, r.verification_id, CASE WHEN x.reply THEN new_inbound END,
               r.created_at, r.expires_at, r.carrier, r.sent_at, r.channel, r.to_address, r.subject
        FROM (SELECT j, n, false AS reply FROM jsonb_array_elements(d -> 'outbound') WITH ORDINALITY AS o(j, n)
              UNION ALL
              SELECT j, n + 1000000, true FROM jsonb_array_elements(d -> 'replies') WITH ORDINALITY AS o(j, n)) x,
             jsonb_populate_record(NULL::outbound_messages, x.j) r
        ORDER BY x.n;
    END IF;
    IF jsonb_typeof(d -> 'state') = 'object' THEN
        INSERT INTO interface_state (phone, session_contact_id, session_expires_at, session_duress, failures,
                                     failures_since, locked_until, pending_command, pending_until, replies,
                                     replies_since, muted_until, updated_at)
        SELECT r.phone, r.session_contact_id, r.session_expires_at, r.session_duress, r.failures, r.failures_since,
               r.locked_until, r.pending_command, r.pending_until, r.replies, r.replies_since, r.muted_until,
               r.updated_at
        FROM jsonb_populate_record(NULL::interface_state, d -> 'state') r
        ON CONFLICT (phone) DO UPDATE SET
            session_contact_id = excluded.session_contact_id, session_expires_at = excluded.session_expires_at,
            session_duress = excluded.session_duress, failures = excluded.failures,
            failures_since = excluded.failures_since, locked_until = excluded.locked_until,
            pending_command = excluded.pending_command, pending_until = excluded.pending_until,
            replies = excluded.replies, replies_since = excluded.replies_since, muted_until = excluded.muted_until,
            updated_at = excluded.updated_at;
    END IF;
    IF d ? 'site_tests' THEN
        FOR e IN SELECT x.j FROM jsonb_array_elements(d -> 'site_tests') WITH ORDINALITY AS x(j, n) ORDER BY x.n LOOP
            UPDATE sites SET on_test_until = CAST(e ->> 'until' AS timestamptz) WHERE id = e ->> 'site_id';
        END LOOP;
    END IF;
    IF d ? 'log' THEN
        INSERT INTO event_log (at, code, site_id, contact_id, phone, verification_id, event_id, comment, details,
                               trace_id)
        SELECT r.at, r.code, r.site_id, r.contact_id, r.phone, r.verification_id, r.event_id, r.comment, r.details,
               r.trace_id
        FROM jsonb_array_elements(d -> 'log') WITH ORDINALITY AS x(j, n), jsonb_populate_record(NULL::event_log, x.j) r
        ORDER BY x.n;
    END IF;
    IF d ? 'notifications' THEN
        INSERT INTO webhook_events (event_type, data, created_at)
        SELECT r.event_type, r.data, r.created_at
        FROM jsonb_array_elements(d -> 'notifications') WITH ORDINALITY AS x(j, n),
             jsonb_populate_record(NULL::webhook_events, x.j) r
        ORDER BY x.n;
    END IF;
    -- Delivered to every listening daemon at commit, never on a rollback.
    IF d ? 'notify' THEN
        PERFORM pg_notify(c, '') FROM jsonb_array_elements_text(d -> 'notify') AS c;
    END IF;
    RETURN jsonb_build_object('inbound_id', new_inbound);
END
$$;

-- An inbound text's reads in one round trip (`inbound_view` in queries.sql): each of its reads as a view, whose
-- row type asyncpg hands over with its column names, so one statement returns every read as an array of rows.
-- The per-number reads of queries.sql select from these views too: one definition each. A view's `v.*` is the
-- columns the table had when it was made: a migration that adds a column the store reads makes it again.
CREATE VIEW gateway_open_verifications AS
SELECT v.*, r.contact_id AS recipient_contact_id, r.phone AS recipient_phone,
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
WHERE r.channel = 'sms' AND r.status NOT IN ('waiting', 'held', 'skipped', 'not_reached')
  AND v.require_response
  AND v.status IN ('pending', 'sent', 'delivered', 'failed', 'responded');

CREATE VIEW gateway_held_refs AS
SELECT rr.ref, rr.alarm_key, rr.verification_id, rr.created_at, v.status, v.timeout_at, s.name AS site_name,
       a.id AS alarm_id, a.site_id AS alarm_site_id, a.event_code AS alarm_event_code, a.zone AS alarm_zone,
       a.text AS alarm_text, a.received_at AS alarm_received_at, rr.phone, rr.held_until
FROM reply_refs rr
JOIN verifications v ON v.id = rr.verification_id
JOIN sites s ON s.id = rr.site_id
LEFT JOIN alarm_events a ON a.id = rr.alarm_key;

CREATE VIEW gateway_open_dispatches AS
SELECT d.*, r.contact_id AS recipient_contact_id, r.phone AS recipient_phone
FROM dispatches d
JOIN dispatch_recipients r ON r.dispatch_id = d.id;
