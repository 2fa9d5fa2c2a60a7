from django.urls import path

from alerts.api import AlertAcknowledgeView, AlertListView
from screening import api as screening
from titration import api as titration
from wardflow.audit.api import AuditCheckpointListView, AuditEventListView, AuditVerifyView
from wardflow.patients.api import PatientDetailView, PatientListCreateView
from wardflow.staff.api import ObtainTokenView, WardListCreateView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("wards/", WardListCreateView.as_view(), name="ward-list"),
    path("patients/", PatientListCreateView.as_view(), name="patient-list"),
    path("patients/<int:pk>/", PatientDetailView.as_view(), name="patient-detail"),
    path("patients/<int:pk>/screening-trials/", screening.TrialOpenView.as_view(), name="trial-open"),
    path("screening-trials/", screening.TrialListView.as_view(), name="trial-list"),
    path("screening-trials/<int:pk>/", screening.TrialDetailView.as_view(), name="trial-detail"),
    path("screening-trials/<int:pk>/doses/", screening.GiveDoseView.as_view(), name="trial-dose"),
    path("screening-trials/<int:pk>/observations/", screening.ChartObservationView.as_view(), name="trial-observation"),
    path("screening-trials/<int:pk>/suspend/", screening.SuspendTrialView.as_view(), name="trial-suspend"),
    path("screening-trials/<int:pk>/resume/", screening.ResumeTrialView.as_view(), name="trial-resume"),
    path("screening-trials/<int:pk>/cancel/", screening.CancelTrialView.as_view(), name="trial-cancel"),
    path("test-doses/<int:pk>/assessment/", screening.AssessResponseView.as_view(), name="dose-assessment"),
    path("patients/<int:pk>/observations/", screening.PatientObservationView.as_view(), name="patient-observation"),
    path(
        "observations/<int:pk>/entered-in-error/",
        screening.ObservationEnteredInErrorView.as_view(),
        name="observation-entered-in-error",
    ),
    path(
        "test-doses/<int:pk>/entered-in-error/",
        screening.TestDoseEnteredInErrorView.as_view(),
        name="test-dose-entered-in-error",
    ),
    path("patients/<int:pk>/pumps/", titration.ImplantView.as_view(), name="pump-implant"),
    path("pumps/", titration.RegistryView.as_view(), name="pump-registry"),
    path("pumps/<int:pk>/", titration.PumpDetailView.as_view(), name="pump-detail"),
    path("pumps/<int:pk>/dose-changes/", titration.ProposeDoseChangeView.as_view(), name="dose-change-propose"),
    path("pumps/<int:pk>/refills/", titration.RefillView.as_view(), name="pump-refill"),
    path(
        "refills/<int:pk>/entered-in-error/",
        titration.RefillEnteredInErrorView.as_view(),
        name="refill-entered-in-error",
    ),
    path("pumps/<int:pk>/phase/", titration.PhaseView.as_view(), name="pump-phase"),
    path("pumps/<int:pk>/explant/", titration.ExplantView.as_view(), name="pump-explant"),
    path("pumps/<int:pk>/replace/", titration.ReplaceView.as_view(), name="pump-replace"),
    path("dose-changes/<int:pk>/approve/", titration.ApproveView.as_view(), name="dose-change-approve"),
    path("dose-changes/<int:pk>/reject/", titration.RejectView.as_view(), name="dose-change-reject"),
    path("dose-changes/<int:pk>/programmed/", titration.ProgrammedView.as_view(), name="dose-change-programmed"),
    path("dose-changes/<int:pk>/readback/", titration.ReadbackView.as_view(), name="dose-change-readback"),
    path("alerts/", AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("audit-events/", AuditEventListView.as_view(), name="audit-event-list"),
    path("audit-events/verify/", AuditVerifyView.as_view(), name="audit-verify"),
    path("audit-checkpoints/", AuditCheckpointListView.as_view(), name="audit-checkpoint-list"),
]
