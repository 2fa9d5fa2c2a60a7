"""The read-only FHIR R4 API (issue 15): same authentication, roles and ward isolation as the REST API; every answer,
errors included, a resource built with fhir.resources and served as application/fhir+json."""

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from fhir.resources.bundle import Bundle
from fhir.resources.capabilitystatement import CapabilityStatement
from fhir.resources.operationoutcome import OperationOutcome
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from wardflow.staff.models import Role

from . import selectors
from .resources import RESOURCE_TYPES, SOURCES, source_for, sources_of_type
from .resources.base import FhirSource, parse_resource_id
from .resources.observations import PENN_CODE_SYSTEM_ID, penn_code_system
from .services.disclosure import record_fhir_read

CLINICAL_ROLES = frozenset({Role.NURSE, Role.NEUROLOGIST})
# The roles that may read the matching REST lists (wardflow/audit/api.py: the audit trail is not the nurses').
READ_ROLES = {"AuditEvent": frozenset({Role.ADMINISTRATOR, Role.NEUROLOGIST})}
MEDIA_TYPES = {"application/fhir+json", "application/json", "application/json+fhir", "json", "*/*", "application/*"}
DEFAULT_COUNT, MAX_COUNT = 50, 200
COMMON_PARAMS = {"_format"}
SEARCH_PARAMS = {"_lastUpdated", "_count", "_page"}
SEARCH_PARAMS_BY_TYPE = {"Patient": {"identifier"}}
SEARCH_PARAMS_OTHERWISE = {"patient"}
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported"}
DATE_PREFIX = re.compile(r"^(eq|ge|gt|le|lt)?(.+)$")
PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def operation_outcome(code: str, text: str) -> OperationOutcome:
    return OperationOutcome.parse_obj({"issue": [{"severity": "error", "code": code, "diagnostics": text}]})


def fhir_exception_handler(exc, context):
    """DRF's status and headers (401 keeps its WWW-Authenticate), with an OperationOutcome as the body."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        response.data = operation_outcome(ISSUE_CODES.get(response.status_code, "exception"), str(detail))
    return response


class FhirJsonRenderer(BaseRenderer):
    media_type = "application/fhir+json"
    format = "json"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else data.json().encode()


class FhirContentNegotiation(BaseContentNegotiation):
    """JSON only: `Accept` of application/fhir+json or application/json, or `_format=json`."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        asked = request.query_params.get("_format") or request.headers.get("Accept") or "*/*"
        # An unencoded `_format=application/fhir+json` arrives with a space for its '+'.
        if not any(media.split(";")[0].strip().replace(" ", "+") in MEDIA_TYPES for media in asked.split(",")):
            raise exceptions.NotAcceptable("This server answers in FHIR JSON only (application/fhir+json).")
        return renderers[0], renderers[0].media_type


class FhirView(APIView):
    # Described by its CapabilityStatement (/fhir/R4/metadata), not by the REST API's OpenAPI schema.
    schema = None
    permission_classes = [IsAuthenticated]
    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = FhirContentNegotiation
    allowed_params: frozenset[str] = frozenset(COMMON_PARAMS)

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.params_allowed(**kwargs))
        if unknown:
            raise exceptions.ParseError(f"Unknown search parameter: {', '.join(unknown)}.")

    def params_allowed(self, **kwargs) -> set[str]:
        return set(self.allowed_params)

    def base_url(self) -> str:
        return self.request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("metadata")

    def check_may_read(self, resource_type: str) -> None:
        if self.request.user.role not in READ_ROLES.get(resource_type, CLINICAL_ROLES):
            raise exceptions.PermissionDenied(f"Your role may not read {resource_type} resources.")

    def bundle(self, resources, total: int, links: dict[str, str]) -> Bundle:
        base = self.base_url()
        return Bundle.parse_obj(
            {
                "type": "searchset",
                "timestamp": timezone.now(),
                "total": total,
                "link": [{"relation": relation, "url": url} for relation, url in links.items()],
                # FHIR allows no empty arrays: a bundle with no match has no `entry`.
                **({"entry": [self.entry(base, resource) for resource in resources]} if resources else {}),
            }
        )

    @staticmethod
    def entry(base: str, resource) -> dict:
        return {
            "fullUrl": f"{base}{resource.resource_type}/{resource.id}",
            "resource": resource,
            "search": {"mode": "match"},
        }

    def audit_read(self, resource_type: str, rows, count: int, patient_id: int | None = None) -> None:
        """One audit event per answer that discloses patient records, none when it holds none. It names the patient
        when the request names one (a read, $everything, a search by patient); a search across patients lists them."""
        patient_ids = {getattr(row, selectors.PATIENT_ID) for row in rows} - {None}
        if not patient_ids:
            return
        record_fhir_read(
            actor=self.request.user,
            patient=selectors.patient_of(patient_id),
            resource_type=resource_type,
            query=self.request.get_full_path(),
            count=count,
            patient_ids=patient_ids,
        )


def _resources(source: FhirSource, rows) -> list:
    return [resource for row in rows for resource in source.to_resources(row)]


def _instant_interval(text: str) -> tuple[datetime, datetime]:
    """The instants a FHIR date (year, month or day: its whole span, UTC) or dateTime stands for, end excluded."""
    try:
        if partial := PARTIAL_DATE.fullmatch(text):
            year, month, day = (int(part) if part else None for part in partial.groups())
            start = datetime(year, month or 1, day or 1, tzinfo=UTC)
            if day:
                return start, start + timedelta(days=1)
            if month:
                return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            return start, datetime(year + 1, 1, 1, tzinfo=UTC)
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise exceptions.ParseError(f"Not a FHIR date, or dateTime with its time zone: {text}.")
    return moment, moment + (timedelta(microseconds=1) if moment.microsecond else timedelta(seconds=1))


def last_updated_lookups(values: list[str]) -> tuple[tuple[str, datetime], ...]:
    lookups = []
    for value in values:
        prefix, text = DATE_PREFIX.match(value).groups()
        start, end = _instant_interval(text)
        lookups += {
            None: [("gte", start), ("lt", end)],
            "eq": [("gte", start), ("lt", end)],
            "ge": [("gte", start)],
            "gt": [("gte", end)],
            "le": [("lt", end)],
            "lt": [("lt", start)],
        }[prefix]
    return tuple(lookups)


def _positive_int(params, name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise exceptions.ParseError(f"{name} must be a whole number of 1 or more.")
    return min(int(raw), maximum) if maximum else int(raw)


def _patient_pk(value: str) -> int:
    """`patient=Patient/patient-5` or `patient=patient-5`; a reference to no patient of this server is refused."""
    parsed = parse_resource_id(value.removeprefix("Patient/"))
    if parsed is None or parsed[0] != "patient" or parsed[2]:
        raise exceptions.ParseError(f"Not a Patient of this server: {value}.")
    return parsed[1]


def _mrn(value: str) -> str:
    """`identifier=<mrn>` or `identifier=<system>|<mrn>` in the hospital's MRN system."""
    system, bar, mrn = value.rpartition("|")
    if bar and system and system != settings.FHIR_MRN_SYSTEM:
        raise exceptions.ParseError(f"Patients are identified in {settings.FHIR_MRN_SYSTEM} only.")
    return mrn


class MetadataView(FhirView):
    """The CapabilityStatement; it holds no patient data, so it is served without authentication."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response(capability_statement(self.base_url()))


def _search_params(resource_type: str) -> list[dict]:
    params = [{"name": "_lastUpdated", "type": "date", "documentation": "Prefixes eq, ge, gt, le, lt; may repeat."}]
    if resource_type == "Patient":
        params.append({"name": "identifier", "type": "token", "documentation": "The medical record number."})
    else:
        params.append({"name": "patient", "type": "reference", "documentation": "The patient the record is about."})
    return params


def capability_statement(base: str) -> CapabilityStatement:
    resources = [
        {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": _search_params(resource_type),
            **(
                {
                    "operation": [
                        {
                            "name": "everything",
                            "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                        }
                    ]
                }
                if resource_type == "Patient"
                else {}
            ),
        }
        for resource_type in RESOURCE_TYPES
    ]
    resources.append({"type": "CodeSystem", "interaction": [{"code": "read"}]})
    return CapabilityStatement.parse_obj(
        {
            "status": "active",
            "date": timezone.now(),
            "kind": "instance",
            "software": {"name": "WardFlow"},
            "implementation": {"description": "WardFlow intrathecal baclofen ward records (read-only)", "url": base},
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": f"Local code systems: {base}CodeSystem/{PENN_CODE_SYSTEM_ID}.",
                    "security": {
                        "description": "As the REST API: 'Authorization: Token <token>' (expiring) or the web session."
                    },
                    "resource": resources,
                }
            ],
        }
    )


class CodeSystemView(FhirView):
    def get(self, request, resource_id):
        if resource_id != PENN_CODE_SYSTEM_ID:
            raise exceptions.NotFound(f"No CodeSystem {resource_id}.")
        return Response(penn_code_system())


def _sources_or_404(resource_type: str) -> list[FhirSource]:
    sources = sources_of_type(resource_type)
    if not sources:
        raise exceptions.NotFound(f"This server does not serve {resource_type} resources.")
    return sources


class ReadView(FhirView):
    def get(self, request, resource_type, resource_id):
        _sources_or_404(resource_type)
        self.check_may_read(resource_type)
        parsed = parse_resource_id(resource_id)
        source = parsed and source_for(resource_type, parsed[0])
        row = source and selectors.source_row(source, request.user, parsed[1])
        found = [r for r in (_resources(source, [row]) if row else []) if r.id == resource_id]
        if not found:
            # As the REST API: another ward's record does not exist for the caller.
            raise exceptions.NotFound(f"No {resource_type}/{resource_id}.")
        self.audit_read(resource_type, [row], 1, patient_id=getattr(row, selectors.PATIENT_ID))
        return Response(found[0])


class SearchView(FhirView):
    allowed_params = frozenset(COMMON_PARAMS | SEARCH_PARAMS)

    def params_allowed(self, resource_type, **kwargs) -> set[str]:
        return self.allowed_params | SEARCH_PARAMS_BY_TYPE.get(resource_type, SEARCH_PARAMS_OTHERWISE)

    def get(self, request, resource_type):
        sources = _sources_or_404(resource_type)
        self.check_may_read(resource_type)
        params = request.query_params
        count = _positive_int(params, "_count", DEFAULT_COUNT, MAX_COUNT)
        page = _positive_int(params, "_page", 1)
        filters = {
            "patient_id": _patient_pk(params["patient"]) if "patient" in params else None,
            "mrn": _mrn(params["identifier"]) if "identifier" in params else None,
            "last_updated": last_updated_lookups(params.getlist("_lastUpdated")),
        }
        # A page is `_count` records taken across the type's sources in their fixed order; a record shown as two
        # resources (an observation and its NEWS2) brings both. Bundle.total counts resources.
        first, last = (page - 1) * count, page * count
        records, total, rows_read, resources = 0, 0, [], []
        for source in sources:
            rows = selectors.search_rows(source, request.user, **filters)
            matched_rows, matched_resources = selectors.matches(source, rows)
            start, stop = max(first - records, 0), min(last - records, matched_rows)
            if start < stop:
                page_rows = list(rows[start:stop])
                rows_read += page_rows
                resources += _resources(source, page_rows)
            records += matched_rows
            total += matched_resources
        self.audit_read(resource_type, rows_read, len(resources), patient_id=filters["patient_id"])
        return Response(self.bundle(resources, total, self.page_links(page, has_next=last < records)))

    def page_links(self, page: int, *, has_next: bool) -> dict[str, str]:
        links = {"self": self.request.build_absolute_uri()}
        if has_next:
            query = self.request.query_params.copy()
            query["_page"] = str(page + 1)
            links["next"] = self.request.build_absolute_uri(f"{self.request.path}?{query.urlencode()}")
        return links


class EverythingView(FhirView):
    """Patient/{id}/$everything: the patient and every record of every source whose patient they are."""

    allowed_params = frozenset(COMMON_PARAMS | {"_since"})

    def get(self, request, resource_id):
        self.check_may_read("Patient")
        parsed = parse_resource_id(resource_id)
        if parsed is None or parsed[0] != "patient" or parsed[2]:
            raise exceptions.NotFound(f"No Patient/{resource_id}.")
        patient_pk = parsed[1]
        patient_source = source_for("Patient", "patient")
        if selectors.source_row(patient_source, request.user, patient_pk) is None:
            raise exceptions.NotFound(f"No Patient/{resource_id}.")
        since = request.query_params.get("_since")
        last_updated = (("gte", _instant_interval(since)[0]),) if since else ()
        resources, rows_read = [], []
        for source in SOURCES:
            if request.user.role not in READ_ROLES.get(source.resource_type, CLINICAL_ROLES):
                continue
            rows = list(selectors.search_rows(source, request.user, patient_id=patient_pk, last_updated=last_updated))
            resources += _resources(source, rows)
            rows_read += rows
        self.audit_read("Patient/$everything", rows_read, len(resources), patient_id=patient_pk)
        return Response(self.bundle(resources, len(resources), {"self": request.build_absolute_uri()}))


class UnknownPathView(FhirView):
    """Any other path under the FHIR base answers a FHIR 404, not the web pages' HTML one."""

    def get(self, request, path):
        raise exceptions.NotFound(f"This server has no {request.path}.")
