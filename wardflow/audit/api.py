import csv
import json
import re
from contextlib import closing
from itertools import islice
from json.encoder import c_make_encoder, encode_basestring_ascii

import django_filters
from django.core.exceptions import EmptyResultSet
from django.db.models import Func, TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from wardflow.api.filters import TimeFilter
from wardflow.api.serializers import ModelSerializer, Serializer
from wardflow.api.views import WardflowAPIView
from wardflow.staff.models import Role

from . import services
from .models import AuditCheckpoint, AuditEvent
from .selectors import copy_rows, visible_events

CSV_FIELDS = [
    "id", "at", "entered_at", "actor", "role", "action", "patient", "subject_type", "subject_id",
    "before", "after", "rules", "protocol_version", "reason", "hash", "prev_hash",
]  # fmt: skip


class AuditEventSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = CSV_FIELDS


class AuditEventFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    actor = django_filters.CharFilter(field_name="actor_username")
    action = django_filters.CharFilter(field_name="action")
    since = TimeFilter(field_name="at", lookup_expr="gte")
    until = TimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["patient", "actor", "action", "since", "until"]


class _Echo:
    def write(self, value):
        return value


# OWASP CSV injection: a cell a spreadsheet would read as a formula (or that hides one behind a tab or CR) is
# prefixed with a single quote, so free text (reasons, names) exports as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# json.dumps(value, sort_keys=True) with its C encoder built once (JSONEncoder.encode builds one per call: half of a
# cell's time, profiled); JSON text from PostgreSQL parsed without json.loads' whitespace checks (there is none
# around it).
def _sorted_json_encoder():
    encoder = json.JSONEncoder(sort_keys=True)
    encode = c_make_encoder(
        None, encoder.default, encode_basestring_ascii, None, encoder.key_separator, encoder.item_separator,
        encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
    )  # fmt: skip
    return lambda value: "".join(encode(value, 0))


_dumps = _sorted_json_encoder()
_raw_decode = json.JSONDecoder().raw_decode


def _cell(value):
    if isinstance(value, dict | list):
        return _dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# The export streams plain rows with COPY, not model instances through the serializer, so that a million events
# stream at disk speed in flat memory. PostgreSQL renders each time as the serializer does (UTC ISO 8601 with "Z",
# microseconds only when there are some) and the JSON columns as text, which is parsed and dumped with sorted keys
# like the serializer's cells.
class UtcIso(Func):
    output_field = TextField()
    template = (
        """replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z')"""
    )


# Where each CSV field is read from, when not the column of the same name.
CSV_SOURCES = {
    "at": UtcIso("at"),
    "entered_at": UtcIso("entered_at"),
    "actor": "actor_username",
    "patient": "patient_id",
    "before": Cast("before", TextField()),
    "after": Cast("after", TextField()),
}
# The cells that hold text someone typed or chose; the others are numbers, times and hashes.
TEXT_CELLS = frozenset(("actor", "role", "action", "subject_type", "subject_id", "protocol_version", "reason"))
# The cells that never hold a character to quote: numbers, and times as UtcIso writes them.
UNQUOTED_CELLS = frozenset(("id", "at", "entered_at", "patient"))
# csv.writer's minimal quoting: a cell holding one of these is quoted. PostgreSQL and Python both apply it.
MUST_QUOTE = '",\r\n'
_QUOTED = re.compile(f"[{re.escape(MUST_QUOTE)}]")


def _sql_chars(chars) -> str:
    return ", ".join(f"chr({ord(char)})" for char in chars)


def _sql_cells(names) -> str:
    """These cells as one piece of a CSV line, written by PostgreSQL (profiled: typing, parsing and writing every
    cell in Python was half the export's time). Formulas go behind a quote, the rules are their JSON list (protocol
    ids, ASCII: jsonb's text is json.dumps'), and a cell is quoted as csv.writer quotes it. Each character that needs
    quoting is looked for with strpos, in the cell as stored: a regular expression cost PostgreSQL twice as much, and
    the formula's quote never needs quoting (profiled: the cells' rendering had become the export's bottleneck)."""
    cells = []
    for name in names:
        value = f"e.{name}::text"
        if name in UNQUOTED_CELLS:
            cells.append(f"COALESCE({value}, '')")
            continue
        if name == "rules":
            value = f"to_jsonb(e.{name})::text"
        written = value
        if name in TEXT_CELLS:
            written = (
                f"CASE WHEN left({value}, 1) IN ({_sql_chars(FORMULA_PREFIXES)}) THEN '''' || {value} ELSE {value} END"
            )
        must_quote = " OR ".join(f"strpos({value}, chr({ord(char)})) > 0" for char in MUST_QUOTE)
        quoted = f"""'"' || replace({written}, '"', '""') || '"'"""
        cells.append(f"COALESCE(CASE WHEN {must_quote} THEN {quoted} ELSE {written} END, '')")
    return " || ',' || ".join(cells)


# The two JSON cells, side by side, are written by Python: the serializer sorts their keys (jsonb orders them by
# length first). PostgreSQL writes the cells before and after them; `{events}` is the events' query. Only the
# column names above are written into the text.
_BEFORE, _AFTER = CSV_FIELDS.index("before"), CSV_FIELDS.index("after")
CSV_LINE_SQL = (
    f"SELECT {_sql_cells(CSV_FIELDS[:_BEFORE])}, e.before, e.after, {_sql_cells(CSV_FIELDS[_AFTER + 1 :])} "  # noqa: S608
    f"FROM ({{events}}) AS e({', '.join(CSV_FIELDS)})"
)


def _csv_cell(value) -> str:
    """One cell as csv.writer writes it: quoted only when it must be, None empty."""
    if value is None:
        return ""
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def _json_cell(text) -> str:
    return "" if text is None else _csv_cell(_cell(_raw_decode(text)[0]))


def _csv_rows(events, chunk_size: int = 5000):
    yield csv.writer(_Echo()).writerow(CSV_FIELDS)
    computed = {f"csv_{name}": source for name, source in CSV_SOURCES.items() if not isinstance(source, str)}
    columns = [f"csv_{name}" if f"csv_{name}" in computed else CSV_SOURCES.get(name, name) for name in CSV_FIELDS]
    try:
        sql, params = events.annotate(**computed).values_list(*columns).query.sql_with_params()
    except EmptyResultSet:  # e.g. a neurologist assigned to no ward: the header alone
        return
    # The ORM's compiled query of the events inside, its values still parameters.
    rows = copy_rows(CSV_LINE_SQL.format(events=sql), list(params), ["text"] * 4)
    with closing(rows):
        while chunk := list(islice(rows, chunk_size)):
            yield "".join(
                f"{first},{_json_cell(before)},{_json_cell(after)},{rest}\r\n" for first, before, after, rest in chunk
            )


class AuditEventListView(mixins.ListModelMixin, WardflowAPIView):
    """The audit trail, newest first. `?format=csv` streams every matching event (not only one page)."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR, Role.NEUROLOGIST}}
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return visible_events(self.request.user)

    @extend_schema(parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])])
    def get(self, request):
        if request.query_params.get("format") == "csv":
            events = self.filter_queryset(self.get_queryset())
            response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="wardflow-audit.csv"'
            return response
        return self.list(request)


class CheckpointStatusSerializer(Serializer):
    sequence = serializers.IntegerField(allow_null=True)
    events = serializers.IntegerField(allow_null=True)
    ok = serializers.BooleanField()


class AuditVerifyView(WardflowAPIView):
    """Verifies the chain against the newest signed checkpoint (D2, D3); `?full=1` re-hashes the whole chain. The
    outcome is kept: the audit page shows it."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR}}

    @extend_schema(
        parameters=[OpenApiParameter("full", OpenApiTypes.BOOL)],
        responses=inline_serializer(
            "AuditChainStatus",
            {
                "ok": serializers.BooleanField(),
                "events": serializers.IntegerField(required=False),
                "first_bad_event": serializers.IntegerField(required=False, allow_null=True),
                "problem": serializers.CharField(required=False),
                "checkpoint": CheckpointStatusSerializer(allow_null=True),
            },
        ),
    )
    def get(self, request):
        result = services.verify(full=request.query_params.get("full") in {"1", "true"})
        checkpoint = (
            None
            if result.checkpoint_ok is None
            else {
                "sequence": result.checkpoint_sequence,
                "events": result.checkpoint_events,
                "ok": result.checkpoint_ok,
            }
        )
        if result.ok:
            return Response({"ok": True, "events": result.events, "checkpoint": checkpoint})
        return Response(
            {
                "ok": False,
                "first_bad_event": result.first_bad_event,
                "problem": result.problem,
                "checkpoint": checkpoint,
            }
        )


class AuditCheckpointSerializer(ModelSerializer):
    taken_by = serializers.CharField(source="taken_by.username", default=None, read_only=True)

    class Meta:
        model = AuditCheckpoint
        fields = ["id", "taken_at", "taken_by", "sequence", "events", "head_hash", "key_id", "signature"]


class AuditCheckpointListView(mixins.ListModelMixin, WardflowAPIView):
    """Signed checkpoints of the chain (D3), newest first. POST takes one now (after verifying the chain; 409 with
    rule D3 when it does not verify)."""

    allowed_roles = {"GET": {Role.ADMINISTRATOR}, "POST": {Role.ADMINISTRATOR}}
    serializer_class = AuditCheckpointSerializer
    queryset = AuditCheckpoint.objects.select_related("taken_by")

    def get(self, request):
        return self.list(request)

    @extend_schema(request=None, responses={201: AuditCheckpointSerializer})
    def post(self, request):
        checkpoint = services.take_checkpoint(by=request.user)
        return Response(AuditCheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)
