"""API: the OpenAPI document itself."""
from __future__ import annotations

from flask import current_app, jsonify

from app.access import public
from app.api import bp
from app.api.openapi import api_doc, build_document


@bp.get("/openapi.json")
@public
@api_doc("This document", response={"type": "object"}, tag="meta")
def openapi():
    return jsonify(build_document(current_app))
