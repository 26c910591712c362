"""Alarm SMS gateway: verification texts, keyword replies, the SMS interface and the event log."""

__version__ = "0.1.0"
