"""The ETA forecast judged: each order's predicted ETA against its GPS-proved travel time."""
