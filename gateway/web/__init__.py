"""The HTTP surfaces: health and metrics, the /ext/v1 API, carrier webhooks."""
