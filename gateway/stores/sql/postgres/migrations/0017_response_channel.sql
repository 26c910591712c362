-- Which message a one-time response link came in (email, push), so an answer through it is logged as what it
-- was: "confirmed by push notification", not "by email link". Links made before this say email.
ALTER TABLE response_tokens ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
