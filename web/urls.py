from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("ward/", views.board, name="board"),
    path("patients/new/", views.register, name="register"),
    path("patients/<int:pk>/", views.patient, name="patient"),
    path("patients/<int:pk>/screening/", views.open_trial, name="open-trial"),
    path("trials/<int:pk>/implant/", views.implant, name="implant"),
    path("patients/<int:pk>/observe/", views.chart_observation, name="observe"),
    path("trials/<int:pk>/dose/", views.give_dose, name="give-dose"),
    path("doses/<int:pk>/assess/", views.assess, name="assess"),
    path("approvals/", views.approvals, name="approvals"),
    path("dose-changes/<int:pk>/approve/", views.approve, name="approve"),
    path("dose-changes/<int:pk>/program/", views.program, name="program"),
    path("dose-changes/<int:pk>/read-back/", views.read_back, name="read-back"),
    path("programming/", views.programming_queue, name="programming-queue"),
    path("pumps/<int:pk>/refill/", views.refill, name="refill"),
    path("pumps/<int:pk>/propose/", views.propose, name="propose"),
    path("pumps/<int:pk>/explant/", views.explant, name="explant"),
    path("pumps/<int:pk>/replace/", views.replace, name="replace"),
    path("observations/<int:pk>/entered-in-error/", views.observation_in_error, name="observation-in-error"),
    path("doses/<int:pk>/entered-in-error/", views.dose_in_error, name="dose-in-error"),
    path("refills/<int:pk>/entered-in-error/", views.refill_in_error, name="refill-in-error"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("audit/", views.audit, name="audit"),
    path("audit/chain/", views.audit_chain, name="audit-chain"),
]
