from django.urls import path

from alerts.api import AlertAcknowledgeView, AlertListView
from wardflow.audit.api import AuditEventListView, AuditVerifyView
from wardflow.patients.api import PatientDetailView, PatientListCreateView
from wardflow.staff.api import ObtainTokenView, WardListCreateView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("wards/", WardListCreateView.as_view(), name="ward-list"),
    path("patients/", PatientListCreateView.as_view(), name="patient-list"),
    path("patients/<int:pk>/", PatientDetailView.as_view(), name="patient-detail"),
    path("alerts/", AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("audit-events/", AuditEventListView.as_view(), name="audit-event-list"),
    path("audit-events/verify/", AuditVerifyView.as_view(), name="audit-verify"),
]
