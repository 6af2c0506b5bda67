"""Data migrations tested on the schema they ran on: migrate back to a state, write rows with
that state's models, migrate forward, then back to today's schema for the tests after."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate the test database to `targets` ([(app, migration name)]); the models (apps)
    of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    """Back to every app's latest migration: a target of `migrate` need not be every app's
    latest, and the tests after need the whole schema."""
    return migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
