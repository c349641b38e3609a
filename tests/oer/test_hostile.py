"""Hostile cartridges are refused cleanly, within bounded memory and time.

Every case runs in a subprocess whose address space is capped at 512 MiB
(RLIMIT_AS) and which is killed after 120 s: a refusal must come back as
the expected exit and message, never as a MemoryError, a crash or a
timeout. Extraction cases also check that nothing was written, neither
inside nor outside the target folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from oer_packager import xmlsafe
from oer_packager.errors import CartridgeError
from tests.oer.cartridges import MANIFEST_CC11, RawEntry, deflated_zeros, good_cc11, raw_zip, replace, write_cartridge

GiB = 1024**3
MiB = 1024**2
MEMORY_LIMIT = 512 * MiB
REPO = Path(__file__).resolve().parents[2]

# Runs one action on one file; exit 3 = UnsafeArchiveError, 4 = CartridgeError, 5 = MemoryError.
SCRIPT = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
from oer_packager.errors import CartridgeError, UnsafeArchiveError
from oer_packager.reader import read_cartridge
from oer_packager.safezip import SafeZip
from oer_packager.validator import validate

action, path = sys.argv[1], sys.argv[2]
try:
    if action == "read":
        read_cartridge(path).close()
    elif action == "validate":
        print(json.dumps([f.as_dict() for f in validate(path)]))
        sys.exit(0)
    elif action == "extract":
        with SafeZip(path) as zf:
            zf.extract_to(sys.argv[3])
except UnsafeArchiveError as exc:
    print(json.dumps({{"error": "UnsafeArchiveError", "message": exc.message}}))
    sys.exit(3)
except CartridgeError as exc:
    print(json.dumps({{"error": "CartridgeError", "message": exc.message}}))
    sys.exit(4)
except MemoryError:
    sys.exit(5)
print(json.dumps({{"error": None}}))
"""


def bounded(action: str, path: Path, *extra: str) -> tuple[int, Any]:
    """Run ``action`` on ``path`` in a memory- and time-limited subprocess."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, action, str(path), *extra],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=env,
    )  # fmt: skip
    assert proc.returncode in (0, 3, 4), f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(proc.stdout)


def refused(action: str, path: Path, error: str, *extra: str) -> str:
    code, out = bounded(action, path, *extra)
    assert (code, out["error"]) == ({"UnsafeArchiveError": 3, "CartridgeError": 4}[error], error), out
    return out["message"]


def validated(path: Path) -> list[dict[str, str]]:
    code, out = bounded("validate", path)
    assert code == 0
    return out


def manifest_entry() -> RawEntry:
    return RawEntry("imsmanifest.xml", MANIFEST_CC11.encode())


@pytest.fixture(scope="module")
def gigabyte_of_zeros() -> tuple[bytes, int]:
    return deflated_zeros(GiB)


def assert_nothing_extracted(parent: Path, before: set[str]) -> None:
    assert {p.name for p in parent.iterdir()} == before


# -- zip bombs ---------------------------------------------------------------------------------


def test_ratio_bomb_is_refused_before_inflating(tmp_path: Path, gigabyte_of_zeros: tuple[bytes, int]) -> None:
    payload, crc = gigabyte_of_zeros
    bomb = RawEntry("web_resources/nullen.bin", payload, zipfile.ZIP_DEFLATED, size=GiB, crc=crc)
    path = tmp_path / "bombe.imscc"
    path.write_bytes(raw_zip([manifest_entry(), bomb]))
    assert path.stat().st_size < 2 * MiB
    message = refused("read", path, "UnsafeArchiveError")
    assert "entry 'web_resources/nullen.bin' has compression ratio 1011:1 (limit 200:1) - zip bomb" in message
    [finding] = validated(path)
    assert (finding["code"], finding["severity"]) == ("unsafe-archive", "error")
    out = tmp_path / "out"
    out.mkdir()
    refused("extract", path, "UnsafeArchiveError", str(out / "ziel"))
    assert_nothing_extracted(out, set())


def test_bomb_with_a_lying_size_stops_at_the_declared_size(
    tmp_path: Path, gigabyte_of_zeros: tuple[bytes, int]
) -> None:
    """The header claims 4 KiB; the data would inflate to 1 GiB. Reading stops at 4 KiB."""
    payload, crc = gigabyte_of_zeros
    liar = RawEntry("web_resources/klein.bin", payload, zipfile.ZIP_DEFLATED, size=4096, crc=crc)
    path = tmp_path / "luege.imscc"
    path.write_bytes(raw_zip([*(RawEntry(n, d) for n, d in good_cc11().items()), liar]))
    findings = validated(path)
    assert {(f["code"], f["location"]) for f in findings if f["severity"] == "error"} == {
        ("zip", "web_resources/klein.bin")
    }
    out = tmp_path / "out"
    out.mkdir()
    message = refused("extract", path, "CartridgeError", str(out / "ziel"))
    assert message.startswith("web_resources/klein.bin: corrupt zip entry")
    assert_nothing_extracted(out, set())


def test_entry_count_bomb_is_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    entries = [RawEntry(f"e/{i:05}.txt", b"") for i in range(50_001)]
    path = tmp_path / "viele.imscc"
    path.write_bytes(raw_zip(entries))
    message = refused("read", path, "UnsafeArchiveError")
    assert message.endswith("viele.imscc: 50001 entries (limit 50000)")


def test_total_size_bomb_is_refused(tmp_path: Path) -> None:
    """Three entries that each claim 1.9 GiB (stored, so no ratio alarm): 5.7 GiB in total."""
    claim = int(1.9 * GiB)
    entries = [RawEntry(f"video{i}.mp4", b"", size=claim, compressed=claim) for i in range(3)]
    path = tmp_path / "gross.imscc"
    path.write_bytes(raw_zip(entries))
    message = refused("read", path, "UnsafeArchiveError")
    assert "entries inflate to more than 4.0 GiB (total size limit; reached at 'video2.mp4')" in message


# -- zip slip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.html", "/etc/x", "C:\\x", "seiten\\..\\..\\evil.html", "C:/x"])
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / "slip.imscc"
    path.write_bytes(raw_zip([manifest_entry(), RawEntry("harmlos.html", b"<p/>"), RawEntry(name, b"boom")]))
    message = refused("read", path, "UnsafeArchiveError")
    assert f"entry {name!r}" in message
    out = tmp_path / "out" / "sub"
    out.mkdir(parents=True)
    before = {p.name for p in tmp_path.iterdir()}
    refused("extract", path, "UnsafeArchiveError", str(out / "ziel"))
    assert list(out.iterdir()) == []
    assert {p.name for p in tmp_path.iterdir()} == before
    assert not Path("/etc/x").exists() or Path("/etc/x").read_bytes() != b"boom"


# -- XML: XXE, entity expansion, size, depth ----------------------------------------------------------

XXE_FILE = '<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
XXE_HTTP = '<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/steal">]>\n'
LAUGHS = (
    '<!DOCTYPE manifest [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10)
    )
    + "]>\n"
)
PARAMETER = '<!DOCTYPE manifest [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd"> %ext;]>\n'


def with_doctype(doctype: str, use: str = "&xxe;") -> dict[str, bytes]:
    files = replace(
        good_cc11(),
        "imsmanifest.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype,
    )
    return replace(files, "imsmanifest.xml", "<schema>IMS Common Cartridge</schema>", f"<schema>{use}</schema>")


@pytest.mark.parametrize(
    ("doctype", "use"),
    [(XXE_FILE, "&xxe;"), (XXE_HTTP, "&xxe;"), (LAUGHS, "&lol9;"), (PARAMETER, "x")],
    ids=["xxe-file", "xxe-http", "billion-laughs", "parameter-entity"],
)
def test_entities_in_the_manifest_are_refused(tmp_path: Path, doctype: str, use: str) -> None:
    path = write_cartridge(tmp_path / "xxe.imscc", with_doctype(doctype, use))
    message = refused("read", path, "CartridgeError")
    assert message == "imsmanifest.xml:2: entity declarations are not allowed (DOCTYPE with <!ENTITY>)"
    assert "root:" not in message  # nothing of /etc/passwd
    [finding] = validated(path)
    assert (finding["code"], finding["location"]) == ("xml", "imsmanifest.xml:2")


def test_doctype_without_entities_is_refused() -> None:
    with pytest.raises(CartridgeError, match=r"^topic.xml:1: DOCTYPE declarations are not allowed$"):
        xmlsafe.parse(b'<!DOCTYPE topic SYSTEM "http://127.0.0.1:9/t.dtd"><topic/>', name="topic.xml")


def test_utf16_xxe_is_refused() -> None:
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n' + XXE_FILE + "<m>&xxe;</m>").encode("utf-16")
    with pytest.raises(CartridgeError, match="entity declarations are not allowed"):
        xmlsafe.parse(data, name="imsmanifest.xml")


def test_deep_nesting_is_refused() -> None:
    data = b"<a>" * 5000 + b"</a>" * 5000
    with pytest.raises(CartridgeError, match=r"^deep.xml:1: Excessive depth"):
        xmlsafe.parse(data, name="deep.xml")


def test_fifty_megabyte_manifest_is_refused(tmp_path: Path) -> None:
    head, tail = MANIFEST_CC11.split("<organizations>", 1)
    filler = "<!-- " + os.urandom(25 * MiB).hex() + " -->\n"
    path = tmp_path / "riesig.imscc"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("imsmanifest.xml", head + filler + "<organizations>" + tail)
    message = refused("read", path, "UnsafeArchiveError")
    assert "entry 'imsmanifest.xml' is 50.0 MiB (manifest limit 32.0 MiB)" in message
    [finding] = validated(path)
    assert finding["code"] == "unsafe-archive"


def test_xml_size_limit_applies_to_streams() -> None:
    import io

    with pytest.raises(CartridgeError, match=r"^big.xml: larger than 1 MiB$"):
        xmlsafe.parse(io.BytesIO(b"<a>" + b"x" * MiB + b"</a>"), name="big.xml", max_size=MiB)


# -- broken encodings, broken zips ------------------------------------------------------------------


def test_latin1_manifest_claiming_utf8_names_file_and_line(tmp_path: Path) -> None:
    files = good_cc11()
    files["imsmanifest.xml"] = MANIFEST_CC11.replace("–", "-").replace("„", '"').replace("“", '"').replace(
        "ı", "i").encode("latin-1")  # fmt: skip
    path = write_cartridge(tmp_path / "latin1.imscc", files)
    message = refused("read", path, "CartridgeError")
    assert message.startswith("imsmanifest.xml:12: ")
    assert "Invalid bytes in character encoding" in message or "not proper UTF-8" in message


def test_html_page_not_utf8_is_an_error_finding(tmp_path: Path) -> None:
    files = good_cc11()
    files["ueber/ueber-diese-sammlung.html"] = files["ueber/ueber-diese-sammlung.html"].decode().encode("utf-16")
    findings = validated(write_cartridge(tmp_path / "utf16.imscc", files))
    assert ("html-encoding", "error", "ueber/ueber-diese-sammlung.html:1") in {
        (f["code"], f["severity"], f["location"]) for f in findings
    }


def test_truncated_zip_is_refused(tmp_path: Path) -> None:
    whole = write_cartridge(tmp_path / "ganz.imscc", good_cc11()).read_bytes()
    path = tmp_path / "halb.imscc"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    message = refused("read", path, "CartridgeError")
    assert message == f"{path}: not a readable zip archive (truncated or not a zip)"


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bild.imscc"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    message = refused("read", path, "CartridgeError")
    assert message == f"{path}: not a readable zip archive (truncated or not a zip)"
