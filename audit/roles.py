"""The application's database role (docs/adr/0013): it owns nothing, so it can neither drop
nor disable a trigger, nor truncate; it may only INSERT and SELECT on the audit trail and only
read the chain heads; on every other table it has the ordinary SELECT, INSERT, UPDATE and
DELETE. Migrations run as the owner, which grants all this after each migrate."""

from django.db import connection, transaction
from psycopg import sql

from audit.models import AuditChainHead, AuditEvent

# What the application's role may do on the audit tables, instead of the ordinary rights.
RESTRICTED = {AuditEvent: ("SELECT", "INSERT"), AuditChainHead: ("SELECT",)}
ORDINARY = "SELECT, INSERT, UPDATE, DELETE"


class RoleError(Exception):
    pass


def runtime_role_grant(*, role: str, password: str = "") -> list[str]:
    """Create the runtime role (or bring an existing one back to these rights) and grant it,
    as the current user, the owner. Idempotent: run after every migrate. Returns the
    statements run, the password left out."""
    done: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor

        def run(statement, *params, log=True):
            text = statement.as_string(raw) if isinstance(statement, sql.Composable) else statement
            cursor.execute(text, params or None)
            if log:
                done.append(text)

        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise RoleError(f"The runtime role must not be the owner ({owner}).")
        name, owner_name = sql.Identifier(role), sql.Identifier(owner)
        database_name, schema_name = sql.Identifier(database), sql.Identifier(schema)
        cursor.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
        verb = "ALTER" if found else "CREATE"
        run(sql.SQL(verb + " ROLE {} {}").format(name, attributes))
        if password:
            run(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password)), log=False)
            done.append(f"ALTER ROLE {role} PASSWORD '…'")
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
        if cursor.fetchone()[0]:
            raise RoleError(f"{role} is a member of the owner {owner}: revoke that membership.")
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)"
            " + (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid)"
            " + (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid)"
            " FROM pg_roles r WHERE r.rolname = %s",
            [role],
        )
        if cursor.fetchone()[0]:
            raise RoleError(
                f"{role} owns objects in {database}: REASSIGN OWNED BY {role} TO {owner} first."
            )
        run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database_name, name))
        run(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_name, name))
        run(
            sql.SQL(
                "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}"
            ).format(schema_name, name)
        )
        run(
            sql.SQL("GRANT " + ORDINARY + " ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema_name, name
            )
        )
        run(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                schema_name, name
            )
        )
        # Tables that later migrations create (as the owner) get the same rights at once.
        for grant in (ORDINARY + " ON TABLES", "USAGE, SELECT ON SEQUENCES"):
            run(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT " + grant + " TO {}"
                ).format(owner_name, schema_name, name)
            )
        for model, rights in RESTRICTED.items():
            table = sql.Identifier(model._meta.db_table)
            run(sql.SQL("REVOKE ALL ON {} FROM {}").format(table, name))
            run(sql.SQL("GRANT " + ", ".join(rights) + " ON {} TO {}").format(table, name))
    return done
