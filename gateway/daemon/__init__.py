"""The process: serve, systemd notify, logging set-up, metrics."""
