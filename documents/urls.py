from django.urls import path

from . import api

urlpatterns = [
    path("patients/<int:pk>/documents/emergency-card.pdf", api.emergency_card, name="emergency-card"),
    path("refills/<int:pk>/record.pdf", api.refill_record, name="refill-record"),
    path("trials/<int:pk>/summary.pdf", api.screening_summary, name="screening-summary"),
]
