from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from wardflow.ops.views import healthz
from wardflow.staff.api import LogoutView, RotateTokenView

# The API first: Django tries the patterns in order, and the pages' thirty-odd came before every API request's
# (40 of an API request's 60 us of URL resolving); a page pays one more prefix to try.
urlpatterns = [
    path("api/v1/auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("api/v1/auth/token/rotate/", RotateTokenView.as_view(), name="api-token-rotate"),
    path("api/v1/", include("config.api_urls")),
    path("", include("web.urls")),
    path("", include("documents.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("fhir/R4/", include("interop.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# A path under /api/ that matches no route answers the API's JSON 404; pages keep the HTML one.
handler404 = "wardflow.api.views.not_found"
