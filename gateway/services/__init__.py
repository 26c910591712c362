"""What turns a request into store calls: inbound texts, alarms, verifications, link answers, sites, welcome, opt-outs."""
