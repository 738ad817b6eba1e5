"""The kiosk as a police station at the door: the service catalogue, opening hours, appointments
with holds and a waiting list, the counter's queue, the record of every service done, and the
notifications a citizen receives."""
