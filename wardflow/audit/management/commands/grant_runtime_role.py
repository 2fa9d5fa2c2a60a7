from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

from wardflow.audit.models import AuditCheckpoint, AuditEvent

# D2, D3: the audit tables are insert-only for the running application. Their triggers can only be switched off by
# their owner, which the runtime role is not.
APPEND_ONLY_TABLES = frozenset({AuditEvent._meta.db_table, AuditCheckpoint._meta.db_table})


class Command(BaseCommand):
    help = (
        "Grant the application's runtime database ROLE what it needs and no more (D3): SELECT, INSERT, UPDATE and "
        "DELETE on the application's tables, but only SELECT and INSERT on the audit tables, the use of their "
        "sequences, and temporary tables. Run by the owner (the role that migrates) after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the runtime role, created beforehand without superuser rights")

    def handle(self, *args, role, **options):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, pg_has_role(%s, current_user, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                [role, role],
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"No database role {role!r}: create it first (README, Production setup).")
            superuser, owner_rights = found
            if superuser or owner_rights:
                raise CommandError(f"{role!r} is a superuser or holds the owner's rights: it could alter the trigger.")
            grantee = sql.Identifier(role)
            cursor.execute("SELECT current_schema()")
            schema = sql.Identifier(cursor.fetchone()[0])
            cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, grantee))
            tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
            for table in tables:
                privileges = "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT, INSERT, UPDATE, DELETE"
                cursor.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), grantee))
                cursor.execute(
                    sql.SQL("GRANT {} ON TABLE {} TO {}").format(sql.SQL(privileges), sql.Identifier(table), grantee)
                )
            cursor.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, grantee))
            # Verification compares the audit table's binding of fields to records with a temporary copy (D2).
            cursor.execute(
                sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(connection.settings_dict["NAME"]), grantee
                )
            )
        self.stdout.write(self.style.SUCCESS(f"Granted {role} the runtime rights on {len(tables)} tables."))
