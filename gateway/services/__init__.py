"""What turns a request into store calls: inbound texts, alarms, verifications, welcome, opt-outs."""
