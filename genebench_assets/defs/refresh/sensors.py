"""Placeholder lists until the refresh sensor lands (issue 5); kept empty on purpose."""

SENSORS: list = []
SCHEDULES: list = []
