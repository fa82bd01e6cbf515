"""Refresh when OSDR adds missions: sensor, automation, weekly schedule (issue 5)."""

import dagster as dg

from genebench_assets.defs.refresh import sensors

defs = dg.Definitions(sensors=sensors.SENSORS, schedules=sensors.SCHEDULES)
