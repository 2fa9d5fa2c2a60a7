from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from . import health


@never_cache
def healthz(request):
    """200 only when PostgreSQL and Redis answer and Celery beat ran recently; 503 naming what fails."""
    failing = health.failures()
    if failing:
        return JsonResponse({"status": "failing", "failing": failing}, status=503)
    return JsonResponse({"status": "ok"})
