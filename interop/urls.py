from django.urls import path

from . import api

urlpatterns = [
    path("metadata", api.MetadataView.as_view(), name="fhir-metadata"),
    path("CodeSystem/<str:resource_id>", api.CodeSystemView.as_view(), name="fhir-codesystem"),
    path("Patient/<str:resource_id>/$everything", api.EverythingView.as_view(), name="fhir-everything"),
    path("<str:resource_type>/<str:resource_id>", api.ReadView.as_view(), name="fhir-read"),
    path("<str:resource_type>", api.SearchView.as_view(), name="fhir-search"),
    path("<path:path>", api.UnknownPathView.as_view(), name="fhir-unknown"),
]
