"""What turns a request into store calls: inbound texts, alarms, verifications and their email-link answers,
sites and contacts, welcome, opt-outs, phone lookups."""
