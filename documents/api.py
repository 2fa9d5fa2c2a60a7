"""The ward's documents as PDF, from the patient page (logged-in web session; the patient page's roles and wards)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import get_valid_filename

from screening.models import ScreeningTrial
from titration.models import Refill
from wardflow.clinical_time import ward_local
from wardflow.patients.models import Patient
from web.views import CLINICAL, role_required

from . import selectors
from .emergency import DANGERS
from .kinds import Document
from .selectors import DocumentUnavailable
from .services import record_printing


def _printed(request, document: Document, record, *, filename: str, patient, subject, **context):
    """The PDF, inline; its printing audited once it is rendered (D1)."""
    from .render import pdf  # WeasyPrint (25 MB) loads in a process once it prints, not in every web worker

    context |= {"record": record, "printed_at": timezone.now(), "printed_by": request.user}
    content = pdf(f"documents/{document}.html", context, request)
    record_printing(actor=request.user, document=document, patient=patient, subject=subject)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{get_valid_filename(filename)}"'
    return response


def _unavailable(request, missing: DocumentUnavailable):
    """A document that cannot exist for this record: a page saying why, never a blank PDF."""
    return render(request, "documents/unavailable.html", {"missing": missing}, status=404)


@role_required(*CLINICAL)
def emergency_card(request, pk):
    try:
        card = selectors.emergency_card(request.user, pk)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    except DocumentUnavailable as missing:
        return _unavailable(request, missing)
    return _printed(request, Document.EMERGENCY_CARD, card, filename=f"emergency-card-{card.pump.serial}.pdf",
                    patient=card.patient, subject=card.pump, dangers=DANGERS)  # fmt: skip


@role_required(*CLINICAL)
def refill_record(request, pk):
    try:
        visit = selectors.refill_record(request.user, pk)
    except Refill.DoesNotExist as exc:
        raise Http404 from exc
    day = f"{ward_local(visit.refill.refilled_at):%Y-%m-%d}"
    return _printed(request, Document.REFILL_RECORD, visit, filename=f"refill-{visit.pump.serial}-{day}.pdf",
                    patient=visit.patient, subject=visit.refill)  # fmt: skip


@role_required(*CLINICAL)
def screening_summary(request, pk):
    try:
        summary = selectors.screening_summary(request.user, pk)
    except ScreeningTrial.DoesNotExist as exc:
        raise Http404 from exc
    except DocumentUnavailable as missing:
        return _unavailable(request, missing)
    return _printed(request, Document.SCREENING_SUMMARY, summary, filename=f"screening-summary-{summary.trial.pk}.pdf",
                    patient=summary.patient, subject=summary.trial)  # fmt: skip
