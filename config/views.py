from django.http import JsonResponse


def health(request):
    """Liveness: the process answers. Also the trivial view the benchmarks compare against."""
    return JsonResponse({"status": "ok"})
