"""Reads that every request of their kind sends (the API token, the record an act names looked up on the caller's
wards, the lock that starts an act), built through the ORM once and sent as SQL from then on: compiling them cost
three to ten times what PostgreSQL takes to answer them.

Each is a `values_list` queryset built with placeholders, replaced by the values of each call; its rows go through the
fields' own converters (JSON fields, e.g.), as the ORM's would. The writes the acts send most (due checks, a refill, a
test dose; a row's changed fields) are built once too, with the values each field's own preparation gives."""

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, models
from django.db.models import NOT_PROVIDED, Model, QuerySet
from django.db.models.sql import UpdateQuery


class CompiledRead:
    """`build(*placeholders)` gives the queryset; `rows(*values)` sends its SQL with each value in its placeholder's
    place (the other parameters are the query's constants). Compiled at the first call, inside the caller's
    transaction (a locking read compiles only there). Placeholders are values no constant of the query takes."""

    def __init__(self, build: Callable[..., QuerySet], placeholders: tuple):
        self._build, self._placeholders = build, placeholders

    @functools.cached_property
    def _statement(self) -> tuple[str, list, dict[int, int], dict]:
        compiler = self._build(*self._placeholders).query.get_compiler(connection=connection)
        sql, params, slots = _with_slots(compiler.as_sql(), self._placeholders)
        return sql, params, slots, compiler.get_converters([expression for expression, _, _ in compiler.select])

    def rows(self, *values) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(*self.bound(*values))
            return [self.converted(row) for row in cursor.fetchall()]

    def bound(self, *values) -> tuple[str, list]:
        """The statement and its parameters, for `values` (to send it within another: `CompiledInsert.save_reading`)."""
        sql, params, slots, _ = self._statement
        return sql, _bound(params, slots, values)

    def converted(self, row: tuple) -> tuple:
        converters = self._statement[3]
        return _converted(row, converters) if converters else row


class CompiledUpdate:
    """`queryset.update(**changes)` compiled once: `build(*placeholders)` gives the queryset and the changes;
    `run(*values)` sends it with each value in its placeholder's place and answers how many rows it changed."""

    def __init__(self, build: Callable[..., tuple[QuerySet, dict]], placeholders: tuple):
        self._build, self._placeholders = build, placeholders

    @functools.cached_property
    def _statement(self) -> tuple[str, list, dict[int, int]]:
        queryset, changes = self._build(*self._placeholders)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        compiler = query.get_compiler(connection=connection)
        compiler.pre_sql_setup()
        return _with_slots(compiler.as_sql(), self._placeholders)

    def run(self, *values) -> int:
        return self.write(*values).send()

    def write(self, *values) -> "Write":
        """The update for `values`, not sent yet: to send along with an insert (`CompiledInsert.save`)."""
        sql, params, slots = self._statement
        return Write(sql, _bound(params, slots, values))


@dataclass(frozen=True)
class Write:
    """An UPDATE not sent yet: alone (`send`), or in an insert's statement (`CompiledInsert.save(rows, along=...)`).
    `rows`: how many rows it must change (None: any number), else `refusal` is raised."""

    sql: str
    params: list
    rows: int | None = None
    refusal: str = ""

    def send(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return self.checked(cursor.rowcount)

    def checked(self, count: int) -> int:
        if self.rows is not None and count != self.rows:
            raise DatabaseError(self.refusal)
        return count


class CompiledInsert:
    """`model.objects.bulk_create(rows)` as one `INSERT ... VALUES` (its text built once per number of rows): on
    PostgreSQL the ORM sends each column as an array to unnest, which psycopg adapts element by element and the ORM
    compiles anew at every call, three times what the plain statement costs. Each value is the one the ORM would write
    (the field's `pre_save`, then its database form); the rows get their primary keys, as from `bulk_create`. A model
    with a field the database fills (a database default, a generated column) is refused: its rows need the ORM."""

    def __init__(self, model: type[Model]):
        self.model = model
        self._fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        self._prepared = [(field, _preparer(field)) for field in self._fields]
        if any(field.db_default is not NOT_PROVIDED or field.generated for field in self._fields):
            raise ImproperlyConfigured(f"{model.__name__} has a field the database fills: insert it through the ORM.")
        self._statements: dict[tuple[int, tuple[str, ...]], str] = {}
        self._reading: dict[tuple, str] = {}

    def _statement(self, count: int, along: tuple[str, ...] = ()) -> str:
        if (count, along) not in self._statements:
            quote = connection.ops.quote_name
            table, key = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
            names = ", ".join(quote(field.column) for field in self._fields)
            row = "(" + ", ".join(["%s"] * len(self._fields)) + ")"
            values = ", ".join([row] * count)
            # Quoted names of the model's own, compiled updates and placeholders only: no value is in the text.
            # Each update along counts its rows, answered with every inserted row's key.
            written = "".join(f", (SELECT count(*) FROM written_{index})" for index in range(len(along)))  # noqa: S608
            prefix = ", ".join(f"written_{index} AS ({sql} RETURNING 1)" for index, sql in enumerate(along))
            insert = f"INSERT INTO {table} ({names}) VALUES {values} RETURNING {key}{written}"  # noqa: S608
            self._statements[count, along] = f"WITH {prefix} {insert}" if along else insert
        return self._statements[count, along]

    def create(self, **values) -> Model:
        """`model.objects.create(**values)`."""
        (row,) = self.save([self.model(**values)])
        return row

    def save(self, rows: list[Model], along: Sequence[Write] = ()) -> list[Model]:
        """`along`: updates sent in the insert's statement (a data-modifying WITH), one round trip for an act that
        closes rows and inserts others (a reschedule). PostgreSQL runs a statement's parts on one snapshot: an
        update along does not see the rows inserted, and none may change a row another changes. With no row to
        insert, each is sent alone."""
        if not rows:
            for write in along:
                write.send()
            return rows
        with connection.cursor() as cursor:
            params = [param for write in along for param in write.params]
            cursor.execute(self._statement(len(rows), tuple(write.sql for write in along)), params + self._params(rows))
            answered = cursor.fetchall()
        for write, count in zip(along, answered[0][1:], strict=True):
            write.checked(count)
        for row, (key, *_) in zip(rows, answered, strict=True):
            _saved(row, key)
        return rows

    def save_reading(self, row: Model, read: CompiledRead, *values) -> tuple:
        """`save([row])` and `read.rows(*values)` in one statement, the insert in a data-modifying WITH: an act that
        inserts its record, then reads what the record cannot change, waits for one round trip instead of two. The
        read sees the data as the statement starts (after the act's earlier statements, its locks among them), and
        not the row inserted: PostgreSQL shows a WITH's changes to no other part of its statement. It must give one
        row, as a read of aggregates does: that row is answered. Giving none raises, and the caller's transaction
        then keeps no insert."""
        answered = self._inserting_with(row, read, *read.bound(*values), keep_row=False)
        if len(answered) != 1:
            raise DatabaseError(f"{self.model._meta.object_name} was not saved: its read gave {len(answered)} rows.")
        key, *found = answered[0]
        _saved(row, key)
        return read.converted(tuple(found))

    def save_onto(self, row: Model, parent: Model, name: str, read: "CompiledRows") -> Model:
        """`save([row])` for a new row of `parent`'s reverse relation `name`, and `read_onto(parent, name, read)` in one
        statement, the insert in a data-modifying WITH: an act that adds to a history it answers with (a refill to its
        pump's refills) waits for one round trip instead of two. The read sees the rows as the statement starts, not
        the one inserted (see `save_reading`): that one is kept among them in the model's default order, which `read`
        must keep too (it orders by nothing else)."""
        if read.ordered:
            raise ImproperlyConfigured("save_onto keeps the model's default order: its read must not order otherwise.")
        # A history with no row yet still answers the inserted row's key (with a row of nulls).
        answered = self._inserting_with(row, read, *read.bound(parent.pk), keep_row=True)
        _saved(row, answered[0][0])
        manager = getattr(parent, name)
        found = [instance for instance in read.instances(found for _, *found in answered) if instance is not None]
        _keep(parent, manager, _in_default_order([row, *of_parent(found, manager.field.name, parent)]))
        return row

    def _inserting_with(self, row: Model, read, read_sql: str, read_params: list, *, keep_row: bool) -> list[tuple]:
        """`row` inserted and `read` sent in one statement, the insert in a data-modifying WITH: the rows answered,
        each the inserted row's key, then a row of the read. `keep_row`: the key is answered even when the read gives
        no row (a row of nulls then)."""
        if (read, keep_row) not in self._reading:
            quote = connection.ops.quote_name
            key = quote(self.model._meta.pk.column)
            join = "LEFT JOIN" if keep_row else "JOIN"
            # The model's own statement and the read's compiled text: no value is written into the text.
            self._reading[read, keep_row] = (
                f"WITH inserted AS ({self._statement(1)}) "  # noqa: S608
                f"SELECT inserted.{key}, found.* FROM inserted {join} ({read_sql}) AS found ON true"
            )
        with connection.cursor() as cursor:
            cursor.execute(self._reading[read, keep_row], [*self._params([row]), *read_params])
            return cursor.fetchall()

    def _params(self, rows: list[Model]) -> list:
        prepared = self._prepared
        return [prepare(field.pre_save(row, True)) for row in rows for field, prepare in prepared]


def _preparer(field) -> Callable:
    """`field.get_db_prep_save` for one value, as the ORM prepares it for an insert or an update. A text of a text
    field, an aware time of a time field and a key of a foreign key are their own database form (Django only checks
    them): those are answered as they are, found by their exact type; any other value or field goes through the
    field. Profiled: a refill's six due checks spent 0.14 ms preparing their 66 values, an audit event 0.03 ms."""
    prepare = functools.partial(field.get_db_prep_save, connection=connection)
    if type(field) is models.DateTimeField:
        return lambda value: value if value is None or (type(value) is datetime and value.utcoffset() is not None) \
            else prepare(value)  # fmt: skip
    if type(field) in (models.CharField, models.TextField):
        return lambda value: value if value is None or type(value) is str else prepare(value)
    if type(field) is models.ForeignKey and type(field.target_field) in (models.AutoField, models.BigAutoField):
        return lambda value: value if value is None or type(value) is int else prepare(value)  # a key as it is
    return prepare


def _saved(row: Model, key) -> None:
    """The row as the ORM leaves one it inserted."""
    row.pk = key
    row._state.adding, row._state.db = False, connection.alias


def save_fields(instance: Model, names: list[str]) -> None:
    """`instance.save(update_fields=names)` as one UPDATE whose text is built once per model and fields: the ORM
    compiles a save anew every time, half a one-row update's cost. The values are those the ORM would write (each
    field's `pre_save`, then its database form), always as parameters (`CompiledUpdate` cannot take them: a None the
    ORM writes into the statement's text). Sends no `pre_save`/`post_save` signal: for the clinical models, which
    have no receivers."""
    fields_write(instance, names).send()


def fields_write(instance: Model, names: list[str]) -> Write:
    """`save_fields(instance, names)` not sent yet: to send along with an insert (`CompiledInsert.save`)."""
    model = type(instance)
    key = (model, tuple(names))
    if key not in _UPDATES:
        fields = [model._meta.get_field(name) for name in names]
        quote = connection.ops.quote_name
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        changes = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        # Quoted names of the model's own and placeholders only: no value is written into the text.
        _UPDATES[key] = (f"UPDATE {table} SET {changes} WHERE {pk} = %s",  # noqa: S608
                         [(field, _preparer(field)) for field in fields])  # fmt: skip
    sql, fields = _UPDATES[key]
    params = [prepare(field.pre_save(instance, False)) for field, prepare in fields]
    return Write(sql, [*params, instance.pk], rows=1,
                 refusal=f"{model._meta.object_name} {instance.pk} was not saved: no such row.")  # fmt: skip


_UPDATES: dict[tuple[type[Model], tuple[str, ...]], tuple[str, list]] = {}


def time_placeholders(count: int) -> tuple[datetime, ...]:
    """Placeholders for a statement's times: the first days of year 1, a time no query of the ward's takes."""
    return tuple(datetime(1, 1, 1 + day, tzinfo=UTC) for day in range(count))


def _with_slots(compiled: tuple[str, tuple], placeholders: tuple) -> tuple[str, list, dict[int, int]]:
    """The statement, its parameters, and which of them each placeholder fills."""
    sql, params = compiled
    slots = {position: placeholders.index(param) for position, param in enumerate(params) if param in placeholders}
    if sorted(set(slots.values())) != list(range(len(placeholders))):
        raise ImproperlyConfigured(f"A compiled statement must take each of {placeholders!r}, not {params!r}.")
    return sql, list(params), slots


def _bound(params: list, slots: dict[int, int], values: tuple) -> list:
    params = params.copy()
    for position, placeholder in slots.items():
        params[position] = values[placeholder]
    return params


def _converted(row: tuple, converters: dict) -> tuple:
    row = list(row)
    for position, (functions, expression) in converters.items():
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return tuple(row)


def columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


class CompiledRows:
    """Model instances read by a queryset compiled once: `build(*placeholders)` gives it (filtered, ordered, locked as
    the caller needs). `related` are forward relations read in the same statement and cached on each instance, as
    `select_related` would: a path ("patient", "patient__ward"), or a path with the only columns wanted, as `only()`
    would (("approved_by", ("id", "username"))); a missing related row is None. `fields`: the model's own columns
    wanted, when not all."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], *related, placeholders: tuple = (-1,),
                 fields: tuple[str, ...] = ()):  # fmt: skip
        self.model, self._fields = model, list(fields)
        self._build, self._placeholders = build, placeholders
        self._related = [(path, None) if isinstance(path, str) else path for path in related]
        self._read = CompiledRead(self._query, placeholders=placeholders)

    @functools.cached_property
    def _layout(self) -> list[tuple[str, type[Model], list[str]]]:
        found = [("", self.model, self._fields or columns(self.model))]
        for path, names in self._related:
            model = self.model
            for name in path.split("__"):
                model = model._meta.get_field(name).related_model
            found.append((path, model, list(names or columns(model))))
        return found

    def _query(self, *placeholders) -> QuerySet:
        names = [f"{path}__{name}" if path else name for path, _, fields in self._layout for name in fields]
        return self._build(*placeholders).values_list(*names)

    def all(self, *values) -> list[Model]:
        return [self._instance(row) for row in self._read.rows(*values)]

    def bound(self, *values) -> tuple[str, list]:
        return self._read.bound(*values)

    def instances(self, rows: Iterable[tuple]) -> list[Model | None]:
        """The instances of rows this read's statement gave within another (None for a row of nulls)."""
        return [self._instance(self._read.converted(tuple(row))) for row in rows]

    @functools.cached_property
    def ordered(self) -> bool:
        """Whether the read orders otherwise than by its model's default order."""
        return bool(self._build(*self._placeholders).query.order_by)

    def first(self, *values) -> Model | None:
        found = self.all(*values)
        return found[0] if found else None

    def _instance(self, row: tuple) -> Model:
        values, instances = iter(row), {}
        for path, model, fields in self._layout:
            row = [next(values) for _ in fields]
            missing = row[fields.index(model._meta.pk.attname)] is None
            instances[path] = None if missing else model.from_db(connection.alias, fields, row)
            if path:
                parent, _, name = path.rpartition("__")
                if instances[parent] is not None:
                    instances[parent]._meta.get_field(name).set_cached_value(instances[parent], instances[path])
        return instances[""]


class LockedRow(CompiledRows):
    """`model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)`, compiled once: only the
    row itself is locked. Raises `model.DoesNotExist` as `get` would."""

    def __init__(self, model: type[Model], *related):
        super().__init__(model, lambda pk: model.objects.select_for_update(of=("self",)).filter(pk=pk), *related)

    def get(self, pk: int) -> Model:
        if (found := self.first(pk)) is None:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} {pk} does not exist.")
        return found


def read_onto(instance: Model, name: str, read: CompiledRows) -> list[Model]:
    """The rows of the reverse relation `name` of `instance`, read by `read` (its placeholder: the instance's id) once
    and kept where `prefetch_related` keeps them: `.all()` answers them from then on, and each row's own relation
    answers `instance`, with no query."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    manager = getattr(instance, name)
    if manager.field.remote_field.cache_name not in cache:
        _keep(instance, manager, of_parent(read.all(instance.pk), manager.field.name, instance))
    return list(manager.all())


def _keep(instance: Model, manager, rows: list[Model]) -> None:
    """`rows` kept as the reverse relation of `instance` that `manager` reads, where `prefetch_related` keeps them."""
    queryset = manager._apply_rel_filters(manager.model._default_manager.all())
    queryset._result_cache, queryset._prefetch_done = rows, True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[manager.field.remote_field.cache_name] = queryset


def _in_default_order(rows: list[Model]) -> list[Model]:
    """`rows` of one model sorted as its `Meta.ordering` sorts them (field names, each maybe descending)."""
    for name in reversed(rows[0]._meta.ordering if rows else ()):
        rows.sort(key=operator.attrgetter(name.removeprefix("-")), reverse=name.startswith("-"))
    return rows


def of_parent(rows: list[Model], name: str, parent: Model) -> list[Model]:
    """`rows`, read by their parent's id, with their relation `name` answering `parent` with no query (as the rows of
    `parent`'s related manager do)."""
    for row in rows:
        row._meta.get_field(name).set_cached_value(row, parent)
    return rows
