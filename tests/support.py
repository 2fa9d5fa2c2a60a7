"""Shared by the tests of the compiled reads and writes (wardflow/compiled.py) and of the acts that wait on locks."""

from django.db import connection

from wardflow.compiled import columns


def columns_of(instance) -> dict:
    """Every column of a model instance, as read: what a compiled read must give exactly as the ORM gives it."""
    return {name: getattr(instance, name) for name in columns(type(instance))}


def a_lock_is_awaited(locktype: str | None = None, tries: int = 100_000) -> bool:
    """Whether another session comes to wait for a lock (of `locktype`, or any) while this one polls: the moment a
    test holding a lock lets its transaction go on."""
    kind = "" if locktype is None else " AND locktype = %s"
    with connection.cursor() as cursor:
        for _ in range(tries):
            cursor.execute(
                f"SELECT count(*) FROM pg_locks WHERE NOT granted{kind}", [] if locktype is None else [locktype]
            )
            if cursor.fetchone()[0]:
                return True
    return False
