"""The background loops: the outbox sender and its pace, webhook deliveries, expiry."""
