-- Call lists: a contact's place in its site's call order and its quiet hours; a verification's call
-- list (all at once or in order, JSON; NULL: all at once, as before); each recipient's step and when
-- it is due (a later step waits with due_at NULL until the step before it is reached).
ALTER TABLE contacts ADD COLUMN call_order INTEGER;
ALTER TABLE contacts ADD COLUMN quiet_hours TEXT;  -- "22:00-07:00", in the contact's time zone
ALTER TABLE verifications ADD COLUMN call_list TEXT;
ALTER TABLE verification_recipients ADD COLUMN step INTEGER;
ALTER TABLE verification_recipients ADD COLUMN due_at TEXT;
CREATE INDEX verification_recipients_due ON verification_recipients (due_at) WHERE due_at IS NOT NULL;
