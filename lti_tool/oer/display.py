"""Showing one library item: page body, file, link, prompt — always with its TULLU line.

Used by the launch-bound viewer and by the library's preview, which differ
only in the URLs of files and assets.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from lti_tool.oer import blobs, media
from lti_tool.oer.attribution import effective, tullu_line
from lti_tool.oer.models import OerAsset, OerCollection, OerNode


@dataclass
class Shown:
    node: OerNode
    body: Markup | None
    file_url: str
    #: how a file is shown: image, audio, video, pdf, download
    file_as: str
    tullu: Markup
    link: str


def _find_asset(by_path: dict[str, OerAsset], target: str) -> OerAsset | None:
    if target in by_path:
        return by_path[target]
    # pages moved into their own folder on export keep their asset paths below it
    prefixed = [a for p, a in by_path.items() if p.endswith("/" + target) or posixpath.basename(p) == target]
    return prefixed[0] if len(prefixed) == 1 else None


def page_body(node: OerNode, assets: list[OerAsset], asset_url: Callable[[OerAsset], str]) -> Markup:
    """The stored page's body, cleaned again, with its relative links pointing at its assets."""
    if not node.blob_sha256:
        return Markup("")
    path = blobs.blob_path(node.blob_sha256)
    if not path.is_file():
        return Markup("")
    with path.open("rb") as fh:
        data = fh.read(media.MAX_PAGE * 2)
    by_path = {a.path: a for a in assets}

    def links(tag: str, attr: str, value: str) -> str | None:
        if attr not in ("src", "href"):
            return value
        target = media.resolve(node.filename or "", value)
        if target is None:
            return value  # absolute (its scheme was checked already) or a fragment
        asset = _find_asset(by_path, target)
        return asset_url(asset) if asset is not None else None

    return Markup(media.clean_body(media.decode_html(data, strict=False), attribute_filter=links))


def kind_label(kind: str) -> str:
    from flask_babel import gettext as _

    labels = {"page": _("Page"), "file": _("File"), "weblink": _("Web link"), "discussion": _("Discussion"),
              "lti": _("Activity"), "module": _("Module")}
    return labels.get(kind, kind)


def file_kind(media_type: str) -> str:
    if media_type in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        return "image"
    if media_type.startswith("audio/") and media_type in media.INLINE_TYPES:
        return "audio"
    if media_type.startswith("video/") and media_type in media.INLINE_TYPES:
        return "video"
    if media_type == "application/pdf":
        return "pdf"
    return "download"


def safe_link(url: str) -> str:
    from urllib.parse import urlsplit

    return url if urlsplit(url or "").scheme in ("http", "https") else ""


def show(coll: OerCollection, node: OerNode, assets: list[OerAsset], *, file_url: str,
         asset_url: Callable[[OerAsset], str], lang: str) -> Shown:
    body = page_body(node, assets, asset_url) if node.kind == "page" else None
    if node.kind == "discussion":
        body = Markup(media.clean_body(node.text or ""))
    return Shown(node=node, body=body, file_url=file_url if node.blob_sha256 else "",
                 file_as=file_kind(node.media_type) if node.kind == "file" else "",
                 tullu=tullu_line(effective(coll, node), lang), link=safe_link(node.url))


def send_blob(sha256: str, media_type: str, filename: str) -> Any:
    """A stored file as a response: inline only for types browsers show safely, sandboxed always."""
    from flask import abort, send_file
    from flask_babel import gettext as _

    path = blobs.blob_path(sha256)
    if not path.is_file():
        abort(404, description=_("This file is missing."))
    inline = media_type in media.INLINE_TYPES
    resp = send_file(path, mimetype=media_type or "application/octet-stream", as_attachment=not inline,
                     download_name=media.safe_filename(filename) or "datei", max_age=0, conditional=True)
    resp.headers["Cache-Control"] = "private, no-store"
    if media_type != "application/pdf":
        # PDF viewers refuse sandboxed documents; everything else never runs script from our origin
        resp.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    return resp
