"""Reads that every request of their kind sends (the API token, the record an act names looked up on the caller's
wards, the lock that starts an act), built through the ORM once and sent as SQL from then on: compiling them cost
three to ten times what PostgreSQL takes to answer them.

Each is a `values_list` queryset built with placeholders, replaced by the values of each call; its rows go through the
fields' own converters (JSON fields, e.g.), as the ORM's would."""

import functools
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model, QuerySet


class CompiledRead:
    """`build(*placeholders)` gives the queryset; `rows(*values)` sends its SQL with each value in its placeholder's
    place (the other parameters are the query's constants). Compiled at the first call, inside the caller's
    transaction (a locking read compiles only there). Placeholders are values no constant of the query takes."""

    def __init__(self, build: Callable[..., QuerySet], placeholders: tuple):
        self._build, self._placeholders = build, placeholders

    @functools.cached_property
    def _statement(self) -> tuple[str, list, dict[int, int], dict]:
        compiler = self._build(*self._placeholders).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = {position: self._placeholders.index(param) for position, param in enumerate(params)
                 if param in self._placeholders}  # fmt: skip
        if sorted(set(slots.values())) != list(range(len(self._placeholders))):
            raise ImproperlyConfigured(f"A compiled read must take each of {self._placeholders!r}, not {params!r}.")
        return sql, list(params), slots, compiler.get_converters([expression for expression, _, _ in compiler.select])

    def rows(self, *values) -> list[tuple]:
        sql, params, slots, converters = self._statement
        params = params.copy()
        for position, placeholder in slots.items():
            params[position] = values[placeholder]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
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
        self._read = CompiledRead(self._query, placeholders=(-1,))

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
