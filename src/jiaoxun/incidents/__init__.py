"""Incidents (警情): from the 110 call to closure — lifecycle, recommendation, dispatch, 1-3-5."""
