"""The gradebook: the database of gradings (connection and migrations, models, the store API) and its typed rows."""
