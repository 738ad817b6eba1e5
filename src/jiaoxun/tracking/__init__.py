"""Live tracking: GPS ingestion, tracks, geofences, patrol check-ins and compliance."""
