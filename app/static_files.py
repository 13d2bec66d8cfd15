"""Static files are fetched once per version, not revalidated on every page.

Every URL that `url_for('static', ...)` builds carries a digest of the file's content (`?v=3f2a9c41d0be`), and
a request for the file's current digest is answered as cacheable for a year and immutable. A browser then opens
page after page without asking again for the stylesheets and scripts (eight conditional requests per page before,
each a round trip a phone on a weak signal waits for). A changed file gets a new digest, so a new URL; a request
with no digest, or with one the file no longer has (a page rendered before a deploy), is answered as before:
cacheable only after asking the server again.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, request
from werkzeug.security import safe_join

VERSION_ARG = "v"
ONE_YEAR_SECONDS = 365 * 24 * 3600


class StaticDigests:
    """The content digest of each file under a folder, read again only when its size or mtime changes."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def of(self, filename: str) -> str | None:
        """The file's digest; None when it is not a file under the folder."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._known.get(filename)
        if known is not None and known[0] == stamp:
            return known[1]
        try:
            with open(path, "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()[:12]
        except OSError:  # a folder, or unreadable: no version, so no long caching
            return None
        self._known[filename] = (stamp, digest)
        return digest


def init_app(app: Flask) -> None:
    if app.static_folder is None:
        return
    digests = StaticDigests(app.static_folder)
    serve = app.view_functions["static"]

    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and VERSION_ARG not in values and "filename" in values:
            digest = digests.of(values["filename"])
            if digest is not None:
                values[VERSION_ARG] = digest

    def static(filename: str) -> Response:
        response: Response = serve(filename=filename)
        if response.status_code in (200, 304) and request.args.get(VERSION_ARG) == digests.of(filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR_SECONDS
            response.cache_control.immutable = True
        return response

    app.url_defaults(add_version)
    app.view_functions["static"] = static
