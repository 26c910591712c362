"""The pure core: texts and alarms in, decisions out. No HTTP, carrier, database or mail imports."""
