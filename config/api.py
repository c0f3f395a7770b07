"""The JSON API (django-ninja): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="Yoyaku API", version="1", urls_namespace="api")
