"""The SMS interface: PIN-authenticated sessions and commands for site and site-group contacts.

``auth`` decides who may run what (PINs, sessions, lockouts, the pending command);
``commands`` is the command table; ``shown`` what a phone may see of the event log;
``budget`` caps replies to one number. All pure.
"""

from gateway.core.interface.auth import Access, claims, decide_interface
from gateway.core.interface.budget import apply_reply_budget

__all__ = ["Access", "apply_reply_budget", "claims", "decide_interface"]
