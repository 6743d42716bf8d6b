"""The gradebook: the database of gradings (models, store, migrations) and typed grade rows."""
