"""Duty: brigades, officers, shift patterns, rosters, crews."""
