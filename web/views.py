"""The ward pages. Views are thin: a form translates, a service decides, a selector reads."""

import re
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

from alerts import selectors as alert_reads
from alerts import services as alert_services
from alerts.models import Alert
from screening import selectors as screening_reads
from screening import services as screening
from titration import selectors as titration_reads
from titration import services as titration
from wardflow import protocol
from wardflow.audit import services as audit_services
from wardflow.audit.selectors import last_verification, visible_events
from wardflow.clinical_time import clock_text, ward_today
from wardflow.errors import DomainError, InvalidInput
from wardflow.patients.models import Patient
from wardflow.patients.selectors import visible_patients
from wardflow.patients.services import register_patient, update_patient_flags
from wardflow.policy import current_policy
from wardflow.staff.models import Role
from wardflow.staff.signing import mark_signer_identified, signer_identified

from . import charts, forms, selectors
from .audit_filters import AuditPageFilter
from .rule_book import rule_sections

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
                form.add_error(field if field in form.fields else None, plain_words(problem, form))
    except DomainError as exc:
        form.add_error(None, describe(exc, form))
    return None


# A service's message may name its own argument, e.g. "(override_reason)": the page names the field as labelled.
SERVICE_FIELD = re.compile(r" ?\(([a-z]+(?:_[a-z0-9]+)*)\)")


def plain_words(message: str, form=None) -> str:
    """The message with each service argument it names replaced by the form's label for it, or left out where the
    form has no such field (the person cannot fill it in here)."""

    def label(match):
        name = match[1]
        if form is not None and name in form.fields:
            return f" (the “{form[name].label}” field)"
        return "" if "_" in name else match[0]

    return SERVICE_FIELD.sub(label, str(message))


def describe(refusal: DomainError, form=None) -> str:
    detail = plain_words(refusal.detail, form)
    return f"{detail} (rule {refusal.rule})" if refusal.rule and refusal.rule not in detail else detail


def submitted(request, form, act, **kwargs):
    """The service's result when a valid form was posted and the act succeeded; None otherwise (the reasons are
    then on the form)."""
    if request.method == "POST" and form.is_valid():
        return perform(form, act, **kwargs, **form.cleaned_data)
    return None


def form_page(request, form, title: str, submit: str, *, patient=None, intro: str = "",
              refusal: DomainError | None = None, cautions: bool = False):  # fmt: skip
    """A form page. `refusal`: why the act is refused now, shown (with its rule) when the form opens, rather than
    after the typing. `cautions`: a dose decision page, which shows the patient's caution strip (P1, P3-P5, V1)."""
    context = {"form": form, "title": title, "submit": submit, "patient": patient, "intro": intro,
               "refusal": describe(refusal) if refusal and not form.is_bound else "",
               "caution_strip": selectors.caution_strip(patient, ward_today()) if cautions else None}  # fmt: skip
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
        "caution_strip": selectors.caution_strip(page.patient, today, page.observations),
        "age": page.patient.age_years(today),
        "record_charts": charts.record_charts(page, now),
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
    return form_page(request, form, "Record the implant", "Record implant", patient=trial.patient, cautions=True)


@role_required(*CLINICAL)
def give_dose(request, pk):
    trial = _trial_or_404(request, pk)
    number, mcg, due_at = screening_reads.next_dose(trial)
    form = forms.TestDoseForm(request.POST or None, initial={"dose_mcg": mcg,
                              "volume_ml": protocol.ladder_volume_ml(mcg) if mcg else None},
                              may_override=screening_reads.may_override_predose(request.user))  # fmt: skip
    if dose := submitted(request, form, screening.give_test_dose, actor=request.user, trial=trial):
        now = timezone.now()
        due = ", ".join(clock_text(t, now) for t in screening_reads.observations_due(dose))
        messages.success(request, f"Test dose {number} recorded. Observations are due at {due} (S5).")
        return redirect("patient", pk=trial.patient_id)
    # V2: the pre-dose check for the time typed (now, until one is), shown before the dose is recorded.
    given_at = getattr(form, "cleaned_data", {}).get("administered_at") or timezone.now()
    # Why no dose can be given now (S9, P1, a closed trial), said when the page opens rather than after the typing.
    refusal = screening_reads.give_dose_refusal(request.user, trial)
    return render(request, "web/dose_form.html", {"form": form, "trial": trial, "number": number, "mcg": mcg,
                                                  "due_at": due_at, "patient": trial.patient,
                                                  "predose": screening_reads.predose_check(trial.patient, given_at),
                                                  "predose_at": given_at,
                                                  "refusal": "" if form.is_bound or not refusal else describe(refusal),
                                                  "caution_strip": selectors.caution_strip(trial.patient, ward_today()),
                                                  "concentration": protocol.TEST_DOSE_CONCENTRATION_MCG_PER_ML,
                                                  "min_injection_seconds": protocol.MIN_INJECTION_SECONDS})  # fmt: skip


@role_required(*CLINICAL)
def chart_observation(request, pk):
    patient = get_object_or_404(visible_patients(request.user), pk=pk)
    # The service charts the observation to the patient's current trial (S10); the page only names it.
    trial = screening_reads.current_trials(patient).first()
    # S5/R6: the schedule's time points, the one due now picked, and its time filled in (editable: late entry).
    points, due = selectors.charting_time_points(patient, timezone.now())
    due_at = next((p.at for p in points if p.key == due and p.at), None)
    initial = {"time_point": due, **({"observed_at": due_at} if due_at else {})}
    form = forms.ObservationForm(request.POST or None, time_points=points, initial=initial)
    if observation := submitted(request, form, screening.chart_observation, actor=request.user, patient=patient):
        news2 = f"NEWS2 {observation.news2_score} ({observation.news2_risk.replace('_', '-')} risk, V1)"
        messages.success(request, f"Observation charted: {news2}.")
        return redirect("patient", pk=patient.pk)
    return render(request, "web/observation_form.html", {"form": form, "patient": patient, "trial": trial,
                                                         "news2_policy": selectors.news2_form_policy(),
                                                         "time_points": {p.key: p.as_script() for p in points},
                                                         })  # fmt: skip


@role_required(Role.NEUROLOGIST)
def assess(request, pk):
    dose = get_object_or_404(screening_reads.visible_test_doses(request.user).select_related("trial"), pk=pk)
    trial = dose.trial
    earlier = [d for d in trial.doses.all() if d.number < dose.number]
    observations = list(trial.observations.all())
    suggestion = screening_reads.suggestion_for(dose, earlier, observations)
    baseline, window = screening_reads.baseline_and_window(dose, earlier, observations)
    # S7: the suggestion is shown beside the form, never picked for the neurologist.
    form = forms.AssessmentForm(request.POST or None)
    if submitted(request, form, screening.assess_response, actor=request.user, test_dose=dose):
        messages.success(request, "Response assessed.")
        return redirect("patient", pk=trial.patient_id)
    return render(request, "web/assess_form.html", {"form": form, "dose": dose, "suggestion": suggestion,
                                                    "baseline": baseline, "window": window,
                                                    "rows": selectors.assessment_rows(dose, baseline, window),
                                                    "caution_strip": selectors.caution_strip(trial.patient,
                                                                                             ward_today()),
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
        if first_of_session:  # D5: signed with the user name (the service refuses a first signature without it)
            mark_signer_identified(request)
        messages.success(request, signed.signature_meaning)
        return redirect("approvals")
    patient = change.pump.patient
    refusal = titration_reads.approval_refusal(request.user, change)
    context = {"form": form, "reject_form": reject_form, "change": change, "patient": patient,
               "caution_strip": selectors.caution_strip(patient, ward_today()),
               "refusal": describe(refusal) if refusal else "",
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
               "caution_strip": selectors.caution_strip(change.pump.patient, ward_today()),
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
               "caution_strip": selectors.caution_strip(change.pump.patient, ward_today()),
               "refusal": describe(refusal) if refusal and not form.is_bound else ""}  # fmt: skip
    return render(request, "web/readback_form.html", context)


@role_required(*CLINICAL)
def programming_queue(request):
    # Only what can be done now is offered; the rest says when or by whom (T3, T9, T12).
    ready, later = selectors.programming_worklist(request.user, timezone.now())
    return render(request, "web/programming_queue.html", {"ready": ready, "later": later})


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
    return form_page(request, form, "Record refill", "Record refill", patient=pump.patient, intro=intro,
                     cautions=True)  # fmt: skip


@role_required(Role.NEUROLOGIST)
def change_phase(request, pk):
    pump = get_object_or_404(titration_reads.visible_pumps(request.user), pk=pk)
    phase = titration_reads.next_phase(pump)
    form = forms.PhaseForm(request.POST or None, initial={"phase": phase})
    if submitted(request, form, titration.set_phase, actor=request.user, pump=pump):
        messages.success(request, f"Pump {pump.serial} moved to the {form.cleaned_data['phase']} phase (T5).")
        return redirect("patient", pk=pump.patient_id)
    intro = (f"The pump is in the {pump.phase} phase. In maintenance, dose changes are adjustments at a refill visit "
             "(T5) and no titration step falls due (T3); titration can be taken up again.")  # fmt: skip
    return form_page(request, form, f"Move the pump to {phase}", f"Move to {phase}", patient=pump.patient,
                     intro=intro, refusal=titration_reads.phase_refusal(request.user, pump, phase))  # fmt: skip


@role_required(*CLINICAL)
def chart_infection(request, pk):
    patient = get_object_or_404(visible_patients(request.user), pk=pk)
    active = not patient.active_infection
    form = forms.InfectionForm(request.POST or None, initial={"active_infection": "true" if active else "false"})
    if changed := submitted(request, form, update_patient_flags, actor=request.user, patient=patient):
        state = "active" if changed.active_infection else "resolved"
        messages.success(request, f"Infection charted {state} (P1).")
        return redirect("patient", pk=patient.pk)
    if active:
        title, intro = "Chart an active infection", ("P1: while an infection is charted, no test dose or implant is "
                                                     "given and an open screening trial is suspended.")  # fmt: skip
    else:
        title, intro = "Chart the infection resolved", ("P1: once resolved, test doses and implants may be given "
                                                        "again; a suspended trial waits for a neurologist to resume "
                                                        "it.")  # fmt: skip
    return form_page(request, form, title, "Chart " + ("active" if active else "resolved"), patient=patient,
                     intro=intro)  # fmt: skip


def _trial_change(request, pk, act, *, title: str, submit: str, done: str, intro: str, refusal):
    """S10, S1: a neurologist's reasoned change to a trial, refused (with its rule) where the service would."""
    trial = _trial_or_404(request, pk)
    form = forms.TrialChangeForm(request.POST or None)
    if submitted(request, form, act, actor=request.user, trial=trial):
        messages.success(request, done)
        return redirect("patient", pk=trial.patient_id)
    return form_page(request, form, title, submit, patient=trial.patient, intro=intro,
                     refusal=refusal(request.user, trial))  # fmt: skip


@role_required(Role.NEUROLOGIST)
def resume_trial(request, pk):
    return _trial_change(request, pk, screening.resume_trial, title="Resume the screening trial", submit="Resume",
                         done="Screening trial resumed (S10).", refusal=screening_reads.resume_refusal,
                         intro="S10: resume after your review of the event that suspended it; never while an "
                               "infection is charted (P1).")  # fmt: skip


@role_required(Role.NEUROLOGIST)
def cancel_trial(request, pk):
    return _trial_change(request, pk, screening.cancel_trial, title="Cancel the screening trial",
                         submit="Cancel trial", done="Screening trial cancelled; its due checks are closed.",
                         refusal=screening_reads.cancel_refusal,
                         intro="The trial ends without a candidacy decision (S11); its doses stay on the record and "
                               "nothing more falls due on it.")  # fmt: skip


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
    kinds = titration_reads.offered_kinds(request.user, pump)
    form = forms.ProposeForm(request.POST or None, kinds=kinds,
                             refills=titration_reads.adjustable_refills(pump, timezone.now()),
                             may_override=titration_reads.may_override_band(request.user),
                             allowed_ranges=selectors.allowed_ranges(pump, kinds, ward_today()))  # fmt: skip
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
                     refusal=titration_reads.proposal_refusal(request.user, pump), cautions=True)  # fmt: skip


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
    what = f"Observation of {clock_text(observation.observed_at, timezone.now(), always_date=True)}"
    return _entered_in_error(request, form, screening.mark_observation_entered_in_error, observation=observation,
                             patient=patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def dose_in_error(request, pk):
    dose = get_object_or_404(
        screening_reads.visible_test_doses(request.user).select_related("trial__patient", "assessment"), pk=pk
    )
    refusal = screening_reads.dose_correction_refusal(request.user, dose)
    form = forms.EnteredInErrorForm(request.POST or None)
    given = clock_text(dose.administered_at, timezone.now(), always_date=True)
    what = f"Test dose {dose.number} ({dose.dose_mcg} mcg) of {given}"
    return _entered_in_error(request, form, screening.mark_test_dose_entered_in_error, test_dose=dose,
                             patient=dose.trial.patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def refill_in_error(request, pk):
    refill = get_object_or_404(titration_reads.visible_refills(request.user).select_related("pump__patient"), pk=pk)
    refusal = titration_reads.refill_correction_refusal(request.user, refill.pump, refill)
    form = forms.EnteredInErrorForm(request.POST or None)
    what = f"Refill of {clock_text(refill.refilled_at, timezone.now(), always_date=True)} ({refill.volume_added_ml} mL)"
    return _entered_in_error(request, form, titration.mark_refill_entered_in_error, refill=refill,
                             patient=refill.pump.patient, what=what, refusal=refusal)  # fmt: skip


@role_required(*CLINICAL)
def alerts(request):
    return render(request, "web/alerts.html", {"problems": alert_reads.open_problems(request.user)})


@require_POST
@role_required(*CLINICAL)
def acknowledge(request, pk):
    """Acknowledges the open problem the alert belongs to: each of its open alerts, audited one by one (A2)."""
    try:
        alert, still_open = alert_reads.open_alerts_of_problem(request.user, pk)
    except Alert.DoesNotExist as exc:
        raise Http404 from exc
    problem = None
    try:
        still_open = alert_services.acknowledge_alerts(actor=request.user, alerts=still_open)[::-1]
    except DomainError as exc:
        problem = describe(exc)
    group = alert_reads.problem_of(request.user, still_open or [alert])
    return render(request, "web/_alert_row.html", {"group": group, "problem": problem})


@role_required(Role.ADMINISTRATOR, Role.NEUROLOGIST)
def audit(request):
    """The same filters as the API's audit list; the CSV export is that API with the page's filters. Invalid filters
    are shown as errors on the form, with no events (never every event as if unfiltered). The patient is shown by
    name: reviewing who decided what for whom is the audit role's work."""
    events = visible_events(request.user).select_related("patient")
    filters = AuditPageFilter(request.GET or None, queryset=events)
    valid = not filters.is_bound or filters.is_valid()
    page = Paginator(filters.qs if valid else events.none(), 50).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    csv_query = filters.api_query() if filters.is_bound and valid else {}
    csv_url = reverse("audit-event-list") + "?" + urlencode({**csv_query, "format": "csv"})
    return render(request, "web/audit.html", {"form": filters.form, "page": page, "csv_url": csv_url, "valid": valid,
                                              "query": urlencode(query)})  # fmt: skip


@role_required(Role.ADMINISTRATOR)
def audit_chain(request):
    """The last verification's outcome (stored by each verification and beat's checkpoints, D3); POST verifies now.
    A chain never verified yet (before beat's first checkpoint) is verified once, from its newest checkpoint on."""
    verification = audit_services.verify() if request.method == "POST" else last_verification()
    return render(request, "web/_chain_status.html", {"verification": verification or audit_services.verify()})


@login_required
def rules(request):
    """Every rule id the pages cite, in the protocol's own words (docs/protocol.md), one anchor per rule."""
    return render(request, "web/rules.html", {"sections": rule_sections(), "version": protocol.PROTOCOL_VERSION})
