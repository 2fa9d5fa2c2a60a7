"""Reads that every request of their kind sends (the API token, the lock that starts an act), built through the ORM
once and sent as SQL from then on: compiling them cost three to ten times what PostgreSQL takes to answer them.

Each is a `values_list` queryset whose one parameter is a placeholder, replaced at each call; its rows go through the
fields' own converters (JSON fields, e.g.), as the ORM's would."""

import functools
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model, QuerySet


class CompiledRead:
    """`build(placeholder)` gives the queryset; `rows(value)` sends its SQL with `value` in the placeholder's place.
    Compiled at the first call, inside the caller's transaction (a locking read compiles only there)."""

    def __init__(self, build: Callable[[object], QuerySet], placeholder: object):
        self._build, self._placeholder = build, placeholder

    @functools.cached_property
    def _statement(self) -> tuple[str, dict]:
        compiler = self._build(self._placeholder).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if params != (self._placeholder,):
            raise ImproperlyConfigured(f"A compiled read takes its placeholder alone as parameter, not {params!r}.")
        return sql, compiler.get_converters([expression for expression, _, _ in compiler.select])

    def rows(self, value) -> list[tuple]:
        sql, converters = self._statement
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            rows = cursor.fetchall()
        if not converters:
            return rows
        return [_converted(row, converters) for row in rows]


def _converted(row: tuple, converters: dict) -> tuple:
    row = list(row)
    for position, (functions, expression) in converters.items():
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return tuple(row)


def columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


class LockedRow:
    """`model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)`, compiled once: only the
    row itself is locked; `related` are forward relations (`"patient"`, `"patient__ward"`), a missing one read as
    None. Raises `model.DoesNotExist` as `get` would."""

    def __init__(self, model: type[Model], *related: str):
        self.model, self.related = model, related
        self._read = CompiledRead(self._query, placeholder=-1)

    def _models(self) -> list[tuple[str, type[Model]]]:
        found = [("", self.model)]
        for path in self.related:
            model = self.model
            for name in path.split("__"):
                model = model._meta.get_field(name).related_model
            found.append((path, model))
        return found

    def _query(self, placeholder) -> QuerySet:
        names = [f"{path}__{name}" if path else name for path, model in self._models() for name in columns(model)]
        locked = self.model.objects.select_for_update(of=("self",))
        return locked.filter(pk=placeholder).values_list(*names)

    def get(self, pk: int) -> Model:
        rows = self._read.rows(pk)
        if not rows:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} {pk} does not exist.")
        values, instances = iter(rows[0]), {}
        for path, model in self._models():
            fields = columns(model)
            row = [next(values) for _ in fields]
            missing = row[fields.index(model._meta.pk.attname)] is None
            instances[path] = None if missing else model.from_db(connection.alias, fields, row)
            if path:
                parent, _, name = path.rpartition("__")
                if instances[parent] is not None:
                    instances[parent]._meta.get_field(name).set_cached_value(instances[parent], instances[path])
        return instances[""]
