"""Jinja filters and globals."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import url_for
from markupsafe import Markup

from app.services.text import plural

STATIC = Path(__file__).parent / "static"


def init_app(app) -> None:
    from app.views.common import is_organizer

    versions: dict[str, str] = {}

    def static_url(filename: str) -> str:
        # A content hash in the URL lets phones cache assets for good and still see new versions.
        if filename not in versions:
            data = (STATIC / filename).read_bytes()
            versions[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=versions[filename])

    app.jinja_env.globals.update(static_url=static_url, is_organizer=is_organizer, qr_svg=qr_svg)
    app.jinja_env.filters["plural"] = plural
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.template_filter("localtime")
    def localtime(moment, event, fmt="%a %d %b %H:%M"):
        return event.local(moment).strftime(fmt) if moment else ""


@lru_cache(maxsize=32)
def qr_svg(text: str) -> Markup:
    """Return an inline SVG QR code of ``text``, drawn from the printed stickies' QR modules.

    One unit of the view box is one module; four modules of quiet zone surround the symbol.
    """
    from printables import qr_svg as draw

    return Markup(draw(text, title=f"QR code: {text}", css_class="qr"))
