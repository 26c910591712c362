"""``gateway trace``: the story of a phone number, a verification or a site's last alarm, from the store."""

from gateway.services.trace.alarm import SiteStory, VerificationStory, trace_site, trace_verification
from gateway.services.trace.number import NumberStory, trace_number

__all__ = ["NumberStory", "SiteStory", "VerificationStory", "trace_number", "trace_site", "trace_verification"]
