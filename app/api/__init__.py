"""The JSON API under /api/v1: bearer tokens, JSON errors, an OpenAPI document.

Each domain's api.py adds its routes to `bp`; create_app() imports them
before registering the blueprint.
"""
from flask import Blueprint

from app.api.support import handle_api_errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")
handle_api_errors(bp)
