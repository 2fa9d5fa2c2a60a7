"""The ward pages. Views are thin: a form translates, a service decides, a selector reads."""

from decimal import ROUND_DOWN, Decimal
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from alerts import services as alert_services
from alerts.selectors import visible_alerts
from screening import selectors as screening_reads
from screening import services as screening
from titration import selectors as titration_reads
from titration import services as titration
from wardflow import protocol
from wardflow.audit import services as audit_services
from wardflow.audit.api import AuditEventFilter
from wardflow.audit.selectors import last_verification, visible_events
from wardflow.clinical_time import ward_local, ward_today
from wardflow.errors import DomainError, InvalidInput
from wardflow.patients.models import Patient
from wardflow.patients.selectors import visible_patients
from wardflow.patients.services import register_patient
from wardflow.policy import current_policy
from wardflow.staff.models import Role
from wardflow.staff.signing import mark_signer_identified, signer_identified

from . import charts, forms, selectors

CLINICAL = (Role.NURSE, Role.NEUROLOGIST)


def role_required(*roles):
    """The page refuses other roles whatever the template shows them (the buttons are hidden as well)."""

    def decorate(view):
        @login_required
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("Your role may not do this.")
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def perform(form, act, **kwargs):
    """Run a service; show its refusal next to the field it names, in plain words with the rule id."""
    try:
        return act(**kwargs)
    except InvalidInput as exc:
        for field, problems in exc.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
    except DomainError as exc:
        form.add_error(None, describe(exc))
    return None


def describe(refusal: DomainError) -> str:
    return (
        f"{refusal.detail} (rule {refusal.rule})"
        if refusal.rule and refusal.rule not in refusal.detail
        else refusal.detail
    )


def submitted(request, form, act, **kwargs):
    """The service's result when a valid form was posted and the act succeeded; None otherwise (the reasons are
    then on the form)."""
    if request.method == "POST" and form.is_valid():
        return perform(form, act, **kwargs, **form.cleaned_data)
    return None


def form_page(request, form, title: str, submit: str, *, patient=None, intro: str = "",
              refusal: DomainError | None = None):  # fmt: skip
    """A form page. `refusal`: why the act is refused now, shown (with its rule) when the form opens, rather than
    after the typing."""
    context = {"form": form, "title": title, "submit": submit, "patient": patient, "intro": intro,
               "refusal": describe(refusal) if refusal and not form.is_bound else ""}  # fmt: skip
    return render(request, "web/form_page.html", context)


@login_required
def home(request):
    if request.user.role == Role.ADMINISTRATOR:
        return redirect("audit")
    if request.user.role in CLINICAL:
        return redirect("board")
    raise PermissionDenied("Your account has no role yet; ask an administrator.")


@role_required(*CLINICAL)
def board(request):
    rows = selectors.ward_board(request.user, timezone.now())
    template = "web/_board_rows.html" if request.headers.get("HX-Request") else "web/board.html"
    return render(request, template, {"rows": rows, "now": timezone.now()})


@role_required(*CLINICAL)
def patient(request, pk):
    try:
        page = selectors.patient_page(request.user, pk)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    today, now = ward_today(), timezone.now()
    pump = page.pump
    days_left = titration_reads.days_to_alarm(pump, now) if pump else None
    return render(request, "web/patient.html", {
        "page": page,
        "acts": selectors.patient_acts(request.user, page),
        "cautions": page.patient.cautions(today),
        "age": page.patient.age_years(today),
        "response_curves": charts.response_curves(page),
        "dose_history": charts.dose_history(page, now),
        "latest_scored": selectors.latest_scored(page.observations),
        "news2_series": charts.news2_series(page, now),
        "volume_now": titration_reads.estimated_volume(pump, now) if pump else None,
        "days_left": None if days_left is None else days_left.quantize(Decimal("0.1"), ROUND_DOWN),
    })  # fmt: skip


def _trial_or_404(request, pk):
    return get_object_or_404(screening_reads.visible_trials(request.user), pk=pk)


@role_required(*CLINICAL)
def register(request):
    form = forms.PatientForm(request.POST or None, wards=request.user.wards.all())
    if patient := submitted(request, form, register_patient, actor=request.user):
        messages.success(request, f"{patient} registered.")
        return redirect("patient", pk=patient.pk)
    return form_page(request, form, "Register a patient", "Register")


@role_required(Role.NEUROLOGIST)
def open_trial(request, pk):
    patient = get_object_or_404(visible_patients(request.user), pk=pk)
    form = forms.OpenTrialForm(request.POST or None, overrides=screening_reads.open_trial_overrides(patient))
    if submitted(request, form, screening.open_trial, actor=request.user, patient=patient):
        messages.success(request, "Screening trial opened: test dose 1 may be given (S1).")
        return redirect("patient", pk=patient.pk)
    refusal = screening_reads.open_trial_refusal(request.user, patient)
    return form_page(request, form, "Open a screening trial", "Open trial", patient=patient, refusal=refusal)


@role_required(Role.NEUROLOGIST)
def implant(request, pk):
    trial = _trial_or_404(request, pk)
    form = forms.ImplantForm(request.POST or None, initial=titration_reads.implant_defaults())
    if submitted(
        request, form, titration.implant_pump, actor=request.user, patient=trial.patient, screening_trial=trial
    ):
        messages.success(request, "Implant recorded; the initial dose (T1) waits for your signature in Approvals.")
        return redirect("patient", pk=trial.patient_id)
    return form_page(request, form, "Record the implant", "Record implant", patient=trial.patient)


@role_required(*CLINICAL)
def give_dose(request, pk):
    trial = _trial_or_404(request, pk)
    number, mcg, due_at = screening_reads.next_dose(trial)
    form = forms.TestDoseForm(request.POST or None, initial={"dose_mcg": mcg,
                              "volume_ml": protocol.ladder_volume_ml(mcg) if mcg else None},
                              may_override=screening_reads.may_override_predose(request.user))  # fmt: skip
    if dose := submitted(request, form, screening.give_test_dose, actor=request.user, trial=trial):
        due = ", ".join(f"{ward_local(t):%H:%M}" for t in screening_reads.observations_due(dose))
        messages.success(request, f"Test dose {number} recorded. Observations are due at {due} (S5).")
        return redirect("patient", pk=trial.patient_id)
    # V2: the pre-dose check for the time typed (now, until one is), shown before the dose is recorded.
    given_at = getattr(form, "cleaned_data", {}).get("administered_at") or timezone.now()
    return render(request, "web/dose_form.html", {"form": form, "trial": trial, "number": number, "mcg": mcg,
                                                  "due_at": due_at, "patient": trial.patient,
                                                  "predose": screening_reads.predose_check(trial.patient, given_at),
                                                  "predose_at": given_at,
                                                  "concentration": protocol.TEST_DOSE_CONCENTRATION_MCG_PER_ML,
                                                  "min_injection_seconds": protocol.MIN_INJECTION_SECONDS})  # fmt: skip


@role_required(*CLINICAL)
def chart_observation(request, pk):
    patient = get_object_or_404(visible_patients(request.user), pk=pk)
    # The service charts the observation to the patient's current trial (S10); the page only names it.
    trial = screening_reads.current_trials(patient).first()
    form = forms.ObservationForm(request.POST or None)
    if observation := submitted(request, form, screening.chart_observation, actor=request.user, patient=patient):
        news2 = f"NEWS2 {observation.news2_score} ({observation.news2_risk.replace('_', '-')} risk, V1)"
        messages.success(request, f"Observation charted: {news2}.")
        return redirect("patient", pk=patient.pk)
    return render(request, "web/observation_form.html", {"form": form, "patient": patient, "trial": trial,
                                                         "news2_policy": selectors.news2_form_policy()})  # fmt: skip


@role_required(Role.NEUROLOGIST)
def assess(request, pk):
    dose = get_object_or_404(screening_reads.visible_test_doses(request.user).select_related("trial"), pk=pk)
    trial = dose.trial
    earlier = [d for d in trial.doses.all() if d.number < dose.number]
    observations = list(trial.observations.all())
    suggestion = screening_reads.suggestion_for(dose, earlier, observations)
    baseline, window = screening_reads.baseline_and_window(dose, earlier, observations)
    form = forms.AssessmentForm(request.POST or None, initial={"response": suggestion.response})
    if submitted(request, form, screening.assess_response, actor=request.user, test_dose=dose):
        messages.success(request, "Response assessed.")
        return redirect("patient", pk=trial.patient_id)
    return render(request, "web/assess_form.html", {"form": form, "dose": dose, "suggestion": suggestion,
                                                    "baseline": baseline, "window": window,
                                                    "patient": trial.patient})  # fmt: skip


@role_required(Role.NEUROLOGIST)
def approvals(request):
    queue = list(selectors.approval_queue(request.user))
    signable = {c.pk for c in queue if titration_reads.may_approve(request.user, c)}
    return render(request, "web/approvals.html", {"queue": queue, "signable": signable})


@role_required(Role.NEUROLOGIST)
def approve(request, pk):
    change = get_object_or_404(titration_reads.visible_dose_changes(request.user), pk=pk)
    rejecting = "reject" in request.POST
    form = forms.ApprovalForm(None if rejecting else request.POST or None)
    reject_form = forms.RejectForm(request.POST if rejecting else None)
    if rejecting and submitted(request, reject_form, titration.reject_dose_change, actor=request.user, change=change):
        messages.success(request, "Dose change rejected.")
        return redirect("approvals")
    first_of_session = not signer_identified(request)
    if signed := submitted(request, form, titration.approve_dose_change, actor=request.user, change=change,
                           first_of_session=first_of_session):  # fmt: skip
        if form.cleaned_data["username"]:
            mark_signer_identified(request)
        messages.success(request, signed.signature_meaning)
        return redirect("approvals")
    patient = change.pump.patient
    refusal = titration_reads.approval_refusal(request.user, change)
    context = {"form": form, "reject_form": reject_form, "change": change, "patient": patient,
               "cautions": patient.cautions(ward_today()), "refusal": describe(refusal) if refusal else "",
               "first_of_session": first_of_session}  # fmt: skip
    return render(request, "web/approve_form.html", context)


@role_required(Role.NURSE)
def program(request, pk):
    change = get_object_or_404(titration_reads.visible_dose_changes(request.user), pk=pk)
    form = forms.ProgrammingForm(request.POST or None)
    if done := submitted(request, form, titration.confirm_programming, actor=request.user, change=change):
        if done.state == done.State.PROGRAMMED:
            messages.success(request, "Programming recorded: a second clinician of the ward reads the pump back "
                                      "before the new program is active (T12).")  # fmt: skip
        else:
            messages.success(request, "Programming confirmed: the new program is active.")
        return redirect("patient", pk=change.pump.patient_id)
    # T12: the approved values are deliberately not in this page's context.
    context = {"form": form, "change_id": change.pk, "patient": change.pump.patient,
               "independent_readback": current_policy().independent_readback,
               "transition": titration_reads.blind_transition(change)}  # fmt: skip
    return render(request, "web/program_form.html", context)


@role_required(*CLINICAL)
def read_back(request, pk):
    change = get_object_or_404(titration_reads.visible_dose_changes(request.user), pk=pk)
    form = forms.ReadbackForm(request.POST or None)
    if submitted(request, form, titration.read_back, actor=request.user, change=change):
        messages.success(request, "Read-back matches: the new program is active (T12).")
        return redirect("patient", pk=change.pump.patient_id)
    refusal = titration_reads.readback_refusal(request.user, change)
    # T12: the approved values are deliberately not in this page's context.
    context = {"form": form, "patient": change.pump.patient, "programmed_by": change.programmed_by,
               "refusal": describe(refusal) if refusal and not form.is_bound else ""}  # fmt: skip
    return render(request, "web/readback_form.html", context)


@role_required(*CLINICAL)
def programming_queue(request):
    queue = list(selectors.programming_queue(request.user))
    programmable = {c.pk for c in queue if titration_reads.may_program(request.user, c)}
    readable = {c.pk for c in queue if titration_reads.may_read_back(request.user, c)}
    return render(request, "web/programming_queue.html",
                  {"queue": queue, "programmable": programmable, "readable": readable})  # fmt: skip


@role_required(*CLINICAL)
def refill(request, pk):
    pump = get_object_or_404(titration_reads.visible_pumps(request.user), pk=pk)
    form = forms.RefillForm(request.POST or None, initial={"concentration_mcg_per_ml": pump.concentration_mcg_per_ml},
                            dead_space_recorded=pump.dead_space_ml is not None)  # fmt: skip
    if refill := submitted(request, form, titration.record_refill, actor=request.user, pump=pump):
        messages.success(request, "Refill recorded; an observation is due in "
                                  f"{current_policy().refill_observation_hours} h (R6).")  # fmt: skip
        # T15: the new strength's program waits for signature; its transition is shown now.
        if change := titration_reads.concentration_change_of(refill):
            transition = change.concentration_transition
            messages.success(request, f"New program for {change.concentration_mcg_per_ml} mcg/mL proposed for "
                                      f"signature. Transition: {transition['hours']} h at "
                                      f"{transition['daily_dose_mcg_during']} mcg/day.")  # fmt: skip
            for warning in change.warnings:
                messages.warning(request, warning)
        return redirect("patient", pk=pump.patient_id)
    intro = (f"Programmed strength {pump.concentration_mcg_per_ml} mcg/mL; reservoir {pump.reservoir_ml} mL. R6: "
             "access through the reservoir septum only, with aseptic technique. T15: a different concentration "
             "needs the daily dose of its new program.")  # fmt: skip
    return form_page(request, form, "Record refill", "Record refill", patient=pump.patient, intro=intro)


@role_required(Role.NEUROLOGIST)
def explant(request, pk):
    pump = get_object_or_404(titration_reads.visible_pumps(request.user), pk=pk)
    form = forms.ExplantForm(request.POST or None)
    if submitted(request, form, titration.explant_pump, actor=request.user, pump=pump):
        messages.success(request, f"Pump {pump.serial} recorded as explanted; nothing more is due on it (T13).")
        return redirect("patient", pk=pump.patient_id)
    intro = "The pump keeps its record; its reminders stop and pending changes are rejected (T13)."
    return form_page(request, form, "Record the explant", "Record explant", patient=pump.patient, intro=intro,
                     refusal=titration_reads.explant_refusal(request.user, pump))  # fmt: skip


@role_required(Role.NEUROLOGIST)
def replace(request, pk):
    pump = get_object_or_404(titration_reads.visible_pumps(request.user), pk=pk)
    form = forms.ReplaceForm(request.POST or None, initial=titration_reads.implant_defaults())
    if submitted(request, form, titration.replace_pump, actor=request.user, pump=pump):
        messages.success(request, "Replacement recorded; the carried-over program waits for a signature (T13, T9).")
        return redirect("patient", pk=pump.patient_id)
    active = f"{pump.active_change.new_daily_dose_mcg} mcg/day" if pump.active_change else "none"
    intro = (f"The new pump starts at the program in force ({active} at {pump.concentration_mcg_per_ml} mcg/mL), "
             "signed and blind-programmed like any change (T13).")  # fmt: skip
    return form_page(request, form, "Replace the pump", "Record replacement", patient=pump.patient, intro=intro,
                     refusal=titration_reads.replace_refusal(request.user, pump))  # fmt: skip


@role_required(*CLINICAL)
def propose(request, pk):
    pump = get_object_or_404(titration_reads.visible_pumps(request.user), pk=pk)
    form = forms.ProposeForm(request.POST or None, kinds=titration_reads.offered_kinds(request.user, pump),
                             refills=titration_reads.adjustable_refills(pump, timezone.now()),
                             may_override=titration_reads.may_override_band(request.user))  # fmt: skip
    if submitted(request, form, titration.propose_dose_change, actor=request.user, pump=pump):
        messages.success(request, "Dose change proposed; it now needs a neurologist's signature (T9).")
        return redirect("patient", pk=pump.patient_id)
    active = f"{pump.active_change.new_daily_dose_mcg} mcg/day" if pump.active_change else "none yet"
    intro = f"Active program: {active}. A neurologist signs every change (T9)."
    if titration_reads.stopped(pump):
        last = titration_reads.last_nonzero_daily_dose(pump)
        intro += (f" The therapy is stopped: a neurologist proposes the restart dose directly (T14); the last "
                  f"non-zero daily dose was {last} mcg/day. {protocol.WITHDRAWAL_GUIDANCE}")  # fmt: skip
    return form_page(request, form, "Propose a dose change", "Propose", patient=pump.patient, intro=intro,
                     refusal=titration_reads.proposal_refusal(request.user, pump))  # fmt: skip


def _entered_in_error(request, form, act, *, patient, what: str, refusal, **record):
    """D4: the form page for marking a record entered in error, and the act on a valid reason."""
    if submitted(request, form, act, actor=request.user, **record):
        messages.success(request, f"{what} marked entered in error; it stays on the record, struck through (D4).")
        return redirect("patient", pk=patient.pk)
    intro = f"{what}. It stays visible, struck through with your name, the time and the reason; nothing counts it."
    return form_page(request, form, "Mark entered in error", "Mark entered in error", patient=patient, intro=intro,
                     refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def observation_in_error(request, pk):
    observation = get_object_or_404(screening_reads.visible_observations(request.user).select_related("patient"), pk=pk)
    patient = observation.patient
    refusal = screening_reads.correction_refusal(request.user, patient, observation)
    form = forms.EnteredInErrorForm(request.POST or None)
    what = f"Observation of {ward_local(observation.observed_at):%d %b %H:%M}"
    return _entered_in_error(request, form, screening.mark_observation_entered_in_error, observation=observation,
                             patient=patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def dose_in_error(request, pk):
    dose = get_object_or_404(
        screening_reads.visible_test_doses(request.user).select_related("trial__patient", "assessment"), pk=pk
    )
    refusal = screening_reads.dose_correction_refusal(request.user, dose)
    form = forms.EnteredInErrorForm(request.POST or None)
    what = f"Test dose {dose.number} ({dose.dose_mcg} mcg) of {ward_local(dose.administered_at):%d %b %H:%M}"
    return _entered_in_error(request, form, screening.mark_test_dose_entered_in_error, test_dose=dose,
                             patient=dose.trial.patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def refill_in_error(request, pk):
    refill = get_object_or_404(titration_reads.visible_refills(request.user).select_related("pump__patient"), pk=pk)
    refusal = titration_reads.refill_correction_refusal(request.user, refill.pump, refill)
    form = forms.EnteredInErrorForm(request.POST or None)
    what = f"Refill of {ward_local(refill.refilled_at):%d %b %H:%M} ({refill.volume_added_ml} mL)"
    return _entered_in_error(request, form, titration.mark_refill_entered_in_error, refill=refill,
                             patient=refill.pump.patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def alerts(request):
    inbox = list(visible_alerts(request.user).filter(state__in=["open", "escalated"]).select_related("patient"))
    acknowledgeable = selectors.acknowledgeable(request.user, inbox)
    return render(request, "web/alerts.html", {"alerts": inbox, "acknowledgeable": acknowledgeable})


@require_POST
@role_required(*CLINICAL)
def acknowledge(request, pk):
    alert = get_object_or_404(visible_alerts(request.user).select_related("patient"), pk=pk)
    try:
        alert = alert_services.acknowledge_alert(actor=request.user, alert=alert)
        problem = None
    except DomainError as exc:
        problem = describe(exc)
    acknowledgeable = selectors.acknowledgeable(request.user, [alert])
    return render(
        request, "web/_alert_row.html", {"alert": alert, "problem": problem, "acknowledgeable": acknowledgeable}
    )


@role_required(Role.ADMINISTRATOR, Role.NEUROLOGIST)
def audit(request):
    """The same filters as the API's audit list; the CSV export is that API with the page's filters."""
    filters = AuditEventFilter(request.GET or None, queryset=visible_events(request.user))
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k in filters.filters and v}
    csv_url = reverse("audit-event-list") + "?" + urlencode({**query, "format": "csv"})
    return render(request, "web/audit.html", {"form": filters.form, "page": page, "csv_url": csv_url,
                                              "query": urlencode(query)})  # fmt: skip


@role_required(Role.ADMINISTRATOR)
def audit_chain(request):
    """The last verification's outcome (stored by each verification and beat's checkpoints, D3); POST verifies now.
    A chain never verified yet (before beat's first checkpoint) is verified once, from its newest checkpoint on."""
    verification = audit_services.verify() if request.method == "POST" else last_verification()
    return render(request, "web/_chain_status.html", {"verification": verification or audit_services.verify()})
