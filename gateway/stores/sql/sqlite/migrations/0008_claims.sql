-- Who holds a lease: the id of the daemon that claimed the message or delivery (gateway/stores/manager/).
-- Only its holder may mark it; once the lease runs out another daemon may claim it.
ALTER TABLE outbound_messages ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT;
