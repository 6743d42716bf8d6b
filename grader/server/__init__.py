"""`dlgrade serve`: a course reached over HTTP. One FastAPI application (app.py) over the course's
gradebook: people and tokens (identity.py), the JSON API (api.py), uploads stored by content hash
(uploads.py), limits (limits.py), the [server] settings (settings.py), and the web pages."""
