"""The web layer: the FastAPI app, authentication, error mapping and the event stream."""
