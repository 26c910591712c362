"""The fault campaign (issue 12): real daemons killed, stopped, starved of disk, cut off from their carrier, attacked."""
