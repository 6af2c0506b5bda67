"""What someone with the owner's or a superuser's rights could do to the trail: write around
every trigger (session_replication_role = replica). audit_verify must notice."""

from django.db import connection


def behind_the_triggers(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params)
        cursor.execute("SET LOCAL session_replication_role = origin")
