"""HTML to PDF with WeasyPrint: the app's own templates and shipped fonts, and nothing fetched from anywhere else."""

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

APP_DIR = Path(__file__).resolve().parent
FONTS_DIR = APP_DIR / "fonts"


class OwnFilesOnly(URLFetcher):
    """Fetches the app's own files (its fonts); refuses any other address, so that rendering a patient's document
    never reaches the network or reads elsewhere on the server."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(url2pathname(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not path.is_relative_to(APP_DIR):
            raise ValueError(f"Refused to fetch {url}: documents use the app's own files only.")
        return super().fetch(url, headers)


def pdf(template: str, context: dict, request=None) -> bytes:
    """The PDF of one of documents/templates/documents/, its relative addresses (the fonts) read from the app."""
    html = render_to_string(template, context, request=request)
    fonts = FontConfiguration()
    document = HTML(string=html, base_url=APP_DIR.as_uri() + "/", url_fetcher=OwnFilesOnly())
    return document.write_pdf(font_config=fonts)
