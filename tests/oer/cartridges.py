"""Hand-made cartridges for reader and validator tests.

:func:`good_cc11` is a small, valid CC 1.1 cartridge of school OER (fractions
for year 6, German titles, umlauts and a space in a file name, three
licences, a teacher-only file). Tests mutate copies of it with
:func:`replace` and write them with :func:`write_cartridge`.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

Files = dict[str, bytes]

MANIFEST_CC11 = """\
<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M_brueche" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
  xmlns:lomimscc="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest"
  xmlns:lom="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1 http://www.imsglobal.org/profile/cc/ccv1p1/ccv1p1_imscp_v1p2_v1p0.xsd">
  <metadata>
    <schema>IMS Common Cartridge</schema>
    <schemaversion>1.1.0</schemaversion>
    <lomimscc:lom>
      <lomimscc:general>
        <lomimscc:title><lomimscc:string language="de">Brüche verstehen – Mathematik Klasse 6</lomimscc:string></lomimscc:title>
        <lomimscc:language>de</lomimscc:language>
        <lomimscc:description><lomimscc:string language="de">Einführung in die Bruchrechnung mit Übungen.</lomimscc:string></lomimscc:description>
        <lomimscc:keyword><lomimscc:string language="de">Brüche</lomimscc:string></lomimscc:keyword>
        <lomimscc:keyword><lomimscc:string language="de">Mathematik</lomimscc:string></lomimscc:keyword>
      </lomimscc:general>
      <lomimscc:lifeCycle>
        <lomimscc:contribute>
          <lomimscc:role><lomimscc:value>author</lomimscc:value></lomimscc:role>
          <lomimscc:entity>BEGIN:VCARD
VERSION:3.0
FN:Jana Müller
END:VCARD</lomimscc:entity>
        </lomimscc:contribute>
      </lomimscc:lifeCycle>
      <lomimscc:rights>
        <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
        <lomimscc:description><lomimscc:string language="de">„Brüche verstehen“ von Jana Müller, Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/deed.de), Quelle: https://oer.example.org/brueche</lomimscc:string></lomimscc:description>
      </lomimscc:rights>
    </lomimscc:lom>
  </metadata>
  <organizations>
    <organization identifier="O_1" structure="rooted-hierarchy">
      <item identifier="I_root">
        <item identifier="I_m1">
          <title>Über diese Sammlung</title>
          <item identifier="I_ueber" identifierref="R_ueber">
            <title>Über diese Sammlung und Lizenzen</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">„Über diese Sammlung“ von Jana Müller, Lizenz: CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/deed.de)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
        </item>
        <item identifier="I_m2">
          <title>Brüche verstehen</title>
          <item identifier="I_einfuehrung" identifierref="R_einfuehrung">
            <title>Was ist ein Bruch?</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">„Was ist ein Bruch?“ von Jana Müller, Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/deed.de)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
          <item identifier="I_arbeitsblatt" identifierref="R_arbeitsblatt">
            <title>Arbeitsblatt: Brüche an der Pizza</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:lifeCycle>
                  <lomimscc:contribute>
                    <lomimscc:role><lomimscc:value>author</lomimscc:value></lomimscc:role>
                    <lomimscc:entity>BEGIN:VCARD
VERSION:3.0
FN:Ali Yılmaz
END:VCARD</lomimscc:entity>
                  </lomimscc:contribute>
                </lomimscc:lifeCycle>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">„Brüche an der Pizza“ von Ali Yılmaz, Lizenz: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/deed.de), Quelle: https://zum.example.de/pizza, Änderungen: gekürzt</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
          <item identifier="I_loesungen" identifierref="R_loesungen">
            <title>Lösungen zum Arbeitsblatt</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">„Lösungen“ von Jana Müller, Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/deed.de)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
          <item identifier="I_video" identifierref="R_video">
            <title>Erklärvideo: Brüche vergleichen</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
        </item>
        <item identifier="I_m3">
          <title>Üben &amp; Austauschen</title>
          <item identifier="I_diskussion" identifierref="R_diskussion">
            <title>Wo begegnen dir Brüche im Alltag?</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
          <item identifier="I_lti" identifierref="R_lti">
            <title>Selbsteinschätzung: Brüche</title>
            <metadata>
              <lomimscc:lom>
                <lomimscc:rights>
                  <lomimscc:copyrightAndOtherRestrictions><lomimscc:value>yes</lomimscc:value></lomimscc:copyrightAndOtherRestrictions>
                  <lomimscc:description><lomimscc:string language="de">Lizenz: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)</lomimscc:string></lomimscc:description>
                </lomimscc:rights>
              </lomimscc:lom>
            </metadata>
          </item>
        </item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="R_ueber" type="webcontent" href="ueber/ueber-diese-sammlung.html">
      <file href="ueber/ueber-diese-sammlung.html"/>
    </resource>
    <resource identifier="R_einfuehrung" type="webcontent" href="brueche/einfuehrung.html">
      <file href="brueche/einfuehrung.html"/>
      <file href="brueche/bilder/pizza.png"/>
      <dependency identifierref="R_arbeitsblatt"/>
    </resource>
    <resource identifier="R_arbeitsblatt" type="webcontent" href="material/Arbeitsblatt Brüche.pdf">
      <file href="material/Arbeitsblatt Brüche.pdf"/>
    </resource>
    <resource identifier="R_loesungen" type="webcontent" href="material/Lösungen.pdf">
      <metadata>
        <lom:lom>
          <lom:educational>
            <lom:intendedEndUserRole><lom:source>IMSGLC_CC_Rolesv1p1</lom:source><lom:value>Instructor</lom:value></lom:intendedEndUserRole>
          </lom:educational>
        </lom:lom>
      </metadata>
      <file href="material/Lösungen.pdf"/>
    </resource>
    <resource identifier="R_video" type="imswl_xmlv1p1">
      <file href="links/erklaervideo.xml"/>
    </resource>
    <resource identifier="R_diskussion" type="imsdt_xmlv1p1">
      <file href="diskussion/brueche-im-alltag.xml"/>
    </resource>
    <resource identifier="R_lti" type="imsbasiclti_xmlv1p0">
      <file href="lti/selbsteinschaetzung.xml"/>
    </resource>
  </resources>
</manifest>
"""

UEBER_HTML = """\
<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Über diese Sammlung</title></head>
<body>
<h1>Über diese Sammlung</h1>
<p>Diese Sammlung ist offen lizenziert. Lizenzen der einzelnen Materialien:</p>
<ul>
<li>„Was ist ein Bruch?“ von Jana Müller, CC BY 4.0</li>
<li>„Brüche an der Pizza“ von Ali Yılmaz, CC BY-SA 4.0</li>
</ul>
</body>
</html>
"""

EINFUEHRUNG_HTML = """\
<!DOCTYPE html>
<html lang="de">
<head><meta charset="utf-8"><title>Was ist ein Bruch?</title></head>
<body>
<h1>Was ist ein Bruch?</h1>
<p>Eine Pizza wird in acht gleich große Stücke geteilt.</p>
<img src="bilder/pizza.png" alt="Pizza in Achteln">
<p><a href="../material/Arbeitsblatt Brüche.pdf">Arbeitsblatt herunterladen</a>
 · <a href="#aufgaben">Aufgaben</a> · <a href="https://de.wikipedia.org/wiki/Bruchrechnung">Wikipedia</a></p>
<p id="aufgaben">„Was ist ein Bruch?“ von Jana Müller, Lizenz: CC BY 4.0</p>
</body>
</html>
"""

WEBLINK_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<webLink xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imswl_v1p1">
  <title>Erklärvideo: Brüche vergleichen</title>
  <url href="https://video.example.org/brueche-vergleichen" target="_blank"/>
</webLink>
"""

DISCUSSION_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<topic xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imsdt_v1p1">
  <title>Wo begegnen dir Brüche im Alltag?</title>
  <text texttype="text/html">&lt;p&gt;Nenne drei Beispiele aus deinem Alltag – Rezepte, Uhrzeiten, Sport …&lt;/p&gt;</text>
</topic>
"""

LTI_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0"
  xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
  xmlns:lticm="http://www.imsglobal.org/xsd/imslticm_v1p0"
  xmlns:lticp="http://www.imsglobal.org/xsd/imslticp_v1p0">
  <blti:title>Selbsteinschätzung: Brüche</blti:title>
  <blti:description>Schätze dich selbst ein: Wie sicher bist du beim Kürzen?</blti:description>
  <blti:custom>
    <lticm:property name="instrument">brueche-klasse-6</lticm:property>
  </blti:custom>
  <blti:launch_url>https://lms-bridge.example.org/lti/launch</blti:launch_url>
  <blti:vendor>
    <lticp:code>lms-bridge</lticp:code>
    <lticp:name>LMS Bridge</lticp:name>
  </blti:vendor>
</cartridge_basiclti_link>
"""


def png_bytes() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xcc\x00"))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(title: str) -> bytes:
    return f"%PDF-1.4\n% {title}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".encode()


def good_cc11() -> Files:
    """A valid CC 1.1 cartridge as name → bytes (a fresh copy each call)."""
    return {
        "imsmanifest.xml": MANIFEST_CC11.encode(),
        "ueber/ueber-diese-sammlung.html": UEBER_HTML.encode(),
        "brueche/einfuehrung.html": EINFUEHRUNG_HTML.encode(),
        "brueche/bilder/pizza.png": png_bytes(),
        "material/Arbeitsblatt Brüche.pdf": pdf_bytes("Arbeitsblatt Brüche"),
        "material/Lösungen.pdf": pdf_bytes("Lösungen"),
        "links/erklaervideo.xml": WEBLINK_XML.encode(),
        "diskussion/brueche-im-alltag.xml": DISCUSSION_XML.encode(),
        "lti/selbsteinschaetzung.xml": LTI_XML.encode(),
    }


CC11_TO_13 = [
    ("imsccv1p1/imscp_v1p1", "imsccv1p3/imscp_v1p1"),
    ("imsccv1p1/LOM/manifest", "imsccv1p3/LOM/manifest"),
    ("imsccv1p1/LOM/resource", "imsccv1p3/LOM/resource"),
    ("ccv1p1/ccv1p1_imscp_v1p2_v1p0.xsd", "ccv1p3/ccv1p3_imscp_v1p2_v1p0.xsd"),
    ("<schemaversion>1.1.0</schemaversion>", "<schemaversion>1.3.0</schemaversion>"),
    ("IMSGLC_CC_Rolesv1p1", "IMSGLC_CC_Rolesv1p3"),
    ('type="imswl_xmlv1p1"', 'type="imswl_xmlv1p3"'),
    ('type="imsdt_xmlv1p1"', 'type="imsdt_xmlv1p3"'),
]


def good_cc13() -> Files:
    """The same collection as a CC 1.3 cartridge (1.3 namespaces and types)."""
    files = good_cc11()
    manifest = files["imsmanifest.xml"].decode()
    for old, new in CC11_TO_13:
        assert old in manifest, old
        manifest = manifest.replace(old, new)
    files["imsmanifest.xml"] = manifest.encode()
    files["links/erklaervideo.xml"] = WEBLINK_XML.replace("imsccv1p1/imswl_v1p1", "imsccv1p3/imswl_v1p3").encode()
    files["diskussion/brueche-im-alltag.xml"] = DISCUSSION_XML.replace(
        "imsccv1p1/imsdt_v1p1", "imsccv1p3/imsdt_v1p3"
    ).encode()
    return files


MANIFEST_CC10 = """\
<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="M_alt" xmlns="http://www.imsglobal.org/xsd/imscc/imscp_v1p1"
  xmlns:lomimscc="http://ltsc.ieee.org/xsd/imscc/LOM">
  <metadata>
    <schema>IMS Common Cartridge</schema>
    <schemaversion>1.0.0</schemaversion>
    <lomimscc:lom>
      <lomimscc:general>
        <lomimscc:title><lomimscc:string>Geometrie: Winkel</lomimscc:string></lomimscc:title>
      </lomimscc:general>
      <lomimscc:rights>
        <lomimscc:description><lomimscc:string>CC BY-SA 3.0 DE https://creativecommons.org/licenses/by-sa/3.0/de/</lomimscc:string></lomimscc:description>
      </lomimscc:rights>
    </lomimscc:lom>
  </metadata>
  <organizations>
    <organization identifier="O_1" structure="rooted-hierarchy">
      <item identifier="I_root">
        <item identifier="I_m1">
          <title>Winkel messen</title>
          <item identifier="I_seite" identifierref="R_seite">
            <title>Winkel mit dem Geodreieck</title>
          </item>
          <item identifier="I_link" identifierref="R_link">
            <title>Winkel-Applet</title>
          </item>
        </item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="R_seite" type="webcontent" href="winkel.html">
      <file href="winkel.html"/>
    </resource>
    <resource identifier="R_link" type="imswl_xmlv1p0">
      <file href="applet.xml"/>
    </resource>
  </resources>
</manifest>
"""


def good_cc10() -> Files:
    """A small valid CC 1.0 cartridge."""
    return {
        "imsmanifest.xml": MANIFEST_CC10.encode(),
        "winkel.html": b"<html><body><p>Lege das Geodreieck an.</p></body></html>",
        "applet.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<webLink xmlns="http://www.imsglobal.org/xsd/imswl_v1p0">'
        b'<title>Winkel-Applet</title><url href="https://www.geogebra.org/m/winkel"/></webLink>\n',
    }


def replace(files: Files, name: str, old: str, new: str, *, count: int = 1) -> Files:
    """A copy of ``files`` with ``old`` replaced in one file (it must occur ``count`` times)."""
    text = files[name].decode()
    found = text.count(old)
    assert found == count, f"{old!r} occurs {found} times in {name}, expected {count}"
    out = dict(files)
    out[name] = text.replace(old, new).encode()
    return out


def line_of(files: Files, name: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in a file."""
    text = files[name].decode()
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def write_cartridge(path: Path, files: Files, *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Write ``files`` as a zip at ``path`` (in the given order)."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


@dataclass
class RawEntry:
    """One entry for :func:`raw_zip`, with every header field under the test's control."""

    name: str | bytes
    payload: bytes = b""  # the bytes as stored (deflated already when method is 8)
    method: int = zipfile.ZIP_STORED
    size: int | None = None  # declared inflated size (default: len(payload))
    crc: int | None = None  # declared CRC-32 (default: of the payload)
    compressed: int | None = None  # declared compressed size (default: len(payload))
    flags: int = 0
    external_attr: int = 0o100644 << 16
    #: Point the central directory at the local header of an earlier entry (overlap).
    share_with: int | None = None

    @classmethod
    def deflated(cls, name: str | bytes, plain: bytes, **kw: object) -> RawEntry:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = c.compress(plain) + c.flush()
        return cls(name, payload, zipfile.ZIP_DEFLATED, size=len(plain), crc=zlib.crc32(plain), **kw)  # type: ignore[arg-type]


def raw_zip(entries: list[RawEntry]) -> bytes:
    """A zip written by hand, so tests can build what zipfile refuses to write."""
    out = bytearray()
    central = bytearray()
    offsets: list[int] = []
    for entry in entries:
        name = entry.name.encode() if isinstance(entry.name, str) else entry.name
        flags = entry.flags | (0x800 if isinstance(entry.name, str) and not entry.name.isascii() else 0)
        size = len(entry.payload) if entry.size is None else entry.size
        crc = zlib.crc32(entry.payload) if entry.crc is None else entry.crc
        compressed = len(entry.payload) if entry.compressed is None else entry.compressed
        if entry.share_with is None:
            offset = len(out)
            out += struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, flags, entry.method, 0, 0x21, crc, compressed, size, len(name), 0
            )
            out += name + entry.payload
        else:
            offset = offsets[entry.share_with]
        offsets.append(offset)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            (3 << 8) | 20,
            20,
            flags,
            entry.method,
            0,
            0x21,
            crc,
            compressed,
            size,
            len(name),
            0,
            0,
            0,
            0,
            entry.external_attr,
            offset,
        )
        central += name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)


def deflated_zeros(total: int, chunk: int = 1024 * 1024) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of ``total`` zero bytes, without holding them.

    Each chunk is compressed once and ended with a full flush, which makes
    its compressed bytes independent of what came before; repeating them
    gives a valid stream that inflates to ``total`` zeros.
    """
    assert total % chunk == 0
    zeros = bytes(chunk)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(total // chunk):
        crc = zlib.crc32(zeros, crc)
    return block * (total // chunk) + end, crc
