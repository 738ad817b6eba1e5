"""Planning: where kiosks and cars should be, and what a change of deployment would do."""
