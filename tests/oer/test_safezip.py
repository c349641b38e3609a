"""SafeZip: opening, reading and extracting untrusted zips within limits."""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path

import pytest

from oer_packager.errors import CartridgeError, UnsafeArchiveError
from oer_packager.safezip import Limits, SafeZip, check_name
from tests.oer.cartridges import RawEntry, good_cc11, raw_zip, write_cartridge

MiB = 1024 * 1024


def write(tmp_path: Path, data: bytes, name: str = "archiv.imscc") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_good_cartridge_opens_and_streams(tmp_path: Path) -> None:
    files = good_cc11()
    path = write_cartridge(tmp_path / "brueche.imscc", files)
    with SafeZip(path) as zf:
        assert zf.names() == list(files)
        assert zf.read("material/Arbeitsblatt Brüche.pdf") == files["material/Arbeitsblatt Brüche.pdf"]
        assert zf.size("imsmanifest.xml") == len(files["imsmanifest.xml"])
        assert zf.exists("brueche/bilder/pizza.png") and not zf.exists("brueche/bilder")
        with zf.open("brueche/einfuehrung.html") as fh:
            assert fh.read(15) == b"<!DOCTYPE html>"
        with pytest.raises(FileNotFoundError):
            zf.open("fehlt.html")


def test_folder_entries_are_not_names(tmp_path: Path) -> None:
    path = tmp_path / "z.imscc"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bilder/", b"")
        zf.writestr("bilder/a.png", b"png")
    with SafeZip(path) as z:
        assert z.names() == ["bilder/a.png"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.html", "'..'"),
        ("seiten/../../evil.html", "'..'"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/evil.dll", "drive letter"),
        ("C:\\Windows\\evil.dll", "backslash"),
        ("seiten\\einstieg.html", "backslash"),
        ("seiten//einstieg.html", "empty or '.'"),
        ("./einstieg.html", "empty or '.'"),
        ("a\x00.html", "NUL"),
        ("a\x07.html", "control characters"),
        ("x" * 600, "600 characters"),
    ],
)
def test_unsafe_names_are_refused(tmp_path: Path, name: str, problem: str) -> None:
    path = write(tmp_path, raw_zip([RawEntry("imsmanifest.xml", b"<manifest/>"), RawEntry(name, b"boo")]))
    with pytest.raises(UnsafeArchiveError) as exc:
        SafeZip(path)
    assert problem in exc.value.message
    assert repr(name)[:40].strip("'") in exc.value.message


def test_check_name_accepts_umlauts_and_spaces() -> None:
    assert check_name("material/Arbeitsblatt Brüche (Klasse 6).pdf") is None
    assert check_name("bilder/") is None


def test_duplicate_entry_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([RawEntry("seite.html", b"eins"), RawEntry("seite.html", b"zwei")]))
    with pytest.raises(UnsafeArchiveError, match="'seite.html' appears twice"):
        SafeZip(path)


def test_encrypted_entry_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([RawEntry("geheim.pdf", b"\x00" * 12 + b"data", flags=0x1)]))
    with pytest.raises(UnsafeArchiveError, match="'geheim.pdf' is encrypted"):
        SafeZip(path)


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    link = RawEntry("bilder/passwd", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    path = write(tmp_path, raw_zip([link]))
    with pytest.raises(UnsafeArchiveError, match="'bilder/passwd' is a symbolic link"):
        SafeZip(path)


def test_exotic_compression_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lzma.imscc"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_LZMA) as zf:
        zf.writestr("seite.html", b"<p>hallo</p>")
    with pytest.raises(UnsafeArchiveError, match="compression method 14"):
        SafeZip(path)


def test_file_that_is_also_a_folder_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([RawEntry("seiten", b"datei"), RawEntry("seiten/a.html", b"<p/>")]))
    with pytest.raises(UnsafeArchiveError, match="'seiten' is both a file and a folder"):
        SafeZip(path)


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    kernel = RawEntry.deflated("a.bin", b"\x00" * 100_000)
    path = write(tmp_path, raw_zip([kernel, RawEntry.deflated("b.bin", b"\x00" * 100_000, share_with=0)]))
    with pytest.raises(UnsafeArchiveError, match="overlaps entry 'a.bin'"):
        SafeZip(path)


@pytest.mark.parametrize(
    ("limits", "entries", "message"),
    [
        (Limits(max_entries=3), [RawEntry(f"{i}.txt", b"x") for i in range(4)], "4 entries (limit 3)"),
        (Limits(max_file_size=MiB), [RawEntry("gross.bin", b"x" * (MiB + 1))], "per-file limit 1.0 MiB"),
        (
            Limits(max_total_size=2 * MiB, max_file_size=2 * MiB),
            [RawEntry(f"{i}.bin", b"y" * MiB) for i in range(3)],
            "more than 2.0 MiB (total size limit; reached at '2.bin')",
        ),
        (Limits(max_manifest_size=1000), [RawEntry("imsmanifest.xml", b"<" * 1001)], "manifest limit 1000 bytes"),
        (Limits(max_name_length=10), [RawEntry("sehr-langer-name.html", b"")], "limit 10"),
        (Limits(ratio_min_size=1000, max_ratio=50), [RawEntry.deflated("nullen.bin", b"\x00" * 100_000)], "limit 50:1"),
        (
            Limits(ratio_min_size=1000, max_ratio=10_000, max_total_ratio=20),
            [RawEntry.deflated(f"{i}.bin", b"\x00" * 100_000) for i in range(3)],
            "overall limit 20:1",
        ),
    ],
)
def test_limits_are_enforced_on_open(tmp_path: Path, limits: Limits, entries: list[RawEntry], message: str) -> None:
    path = write(tmp_path, raw_zip(entries))
    with pytest.raises(UnsafeArchiveError) as exc:
        SafeZip(path, limits)
    assert message in exc.value.message


def test_declared_size_lie_stops_at_the_declared_size(tmp_path: Path) -> None:
    """A header claiming 10 bytes over 1 MiB of data: reading stops and reports the damage."""
    big = b"\x00" * MiB
    lie = RawEntry.deflated("klein.txt", big)
    lie.size = 10
    path = write(tmp_path, raw_zip([lie]))
    with SafeZip(path) as zf, pytest.raises(CartridgeError, match="klein.txt: corrupt zip entry") as exc:
        zf.read("klein.txt")
    assert not isinstance(exc.value, UnsafeArchiveError)


def test_reading_counts_against_the_per_file_limit(tmp_path: Path) -> None:
    """The limit applies to the bytes as they stream, whatever the headers say."""
    path = write(tmp_path, raw_zip([RawEntry("a.bin", b"z" * 5000)]))
    with SafeZip(path) as zf:
        zf.limits = Limits(max_file_size=4096)  # tightened after the headers passed
        with pytest.raises(UnsafeArchiveError, match="a.bin: larger than the per-file limit of 4.0 KiB"):
            zf.read("a.bin")


def test_corrupt_entry_names_the_entry(tmp_path: Path) -> None:
    bad = RawEntry("seite.html", b"<p>hallo</p>", crc=zlib.crc32(b"anders"))
    path = write(tmp_path, raw_zip([bad]))
    with SafeZip(path) as zf, pytest.raises(CartridgeError, match="seite.html: corrupt zip entry"):
        zf.check("seite.html")


@pytest.mark.parametrize(
    "data", [b"", b"Das ist kein Zip.", b"PK\x03\x04" + b"\x00" * 40], ids=["empty", "text", "local-header-only"]
)
def test_not_a_zip_is_a_cartridge_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CartridgeError, match="not a readable zip archive") as exc:
        SafeZip(write(tmp_path, data))
    assert not isinstance(exc.value, UnsafeArchiveError)


def test_truncated_zip_is_a_cartridge_error(tmp_path: Path) -> None:
    data = write_cartridge(tmp_path / "ganz.imscc", good_cc11()).read_bytes()
    with pytest.raises(CartridgeError, match="truncated or not a zip"):
        SafeZip(write(tmp_path, data[: len(data) // 2]))


def test_opens_a_binary_stream() -> None:
    buffer = io.BytesIO(raw_zip([RawEntry("a.txt", b"hallo")]))
    with SafeZip(buffer) as zf:
        assert zf.read("a.txt") == b"hallo"


# -- extract_to -------------------------------------------------------------------------


def test_extract_writes_every_file_inside_the_target(tmp_path: Path) -> None:
    files = good_cc11()
    path = write_cartridge(tmp_path / "brueche.imscc", files)
    target = tmp_path / "ausgepackt"
    with SafeZip(path) as zf:
        assert zf.extract_to(target) == target
    written = {p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert written == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ausgepackt", "brueche.imscc"]


def test_extract_into_an_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "leer"
    target.mkdir()
    with SafeZip(write(tmp_path, raw_zip([RawEntry("a/b.txt", b"b")]))) as zf:
        zf.extract_to(target)
    assert (target / "a" / "b.txt").read_bytes() == b"b"


def test_extract_refuses_a_non_empty_target(tmp_path: Path) -> None:
    target = tmp_path / "voll"
    target.mkdir()
    (target / "alt.txt").write_text("alt")
    with SafeZip(write(tmp_path, raw_zip([RawEntry("a.txt", b"neu")]))) as zf, pytest.raises(CartridgeError):
        zf.extract_to(target)
    assert [p.name for p in target.iterdir()] == ["alt.txt"]


def test_failed_extract_leaves_nothing_behind(tmp_path: Path) -> None:
    """The second entry is damaged: no target, no temporary folder, nothing half written."""
    good = RawEntry("a/eins.txt", b"eins")
    bad = RawEntry("a/zwei.txt", b"zwei", crc=zlib.crc32(b"falsch"))
    archive = write(tmp_path, raw_zip([good, bad]))
    parent = tmp_path / "out"
    parent.mkdir()
    with SafeZip(archive) as zf, pytest.raises(CartridgeError, match="a/zwei.txt: corrupt"):
        zf.extract_to(parent / "ziel")
    assert list(parent.iterdir()) == []


def test_extract_refuses_names_differing_only_in_case(tmp_path: Path) -> None:
    path = write(tmp_path, raw_zip([RawEntry("Bild.png", b"1"), RawEntry("bild.png", b"2")]))
    with SafeZip(path) as zf, pytest.raises(UnsafeArchiveError, match="differ only in case"):
        zf.extract_to(tmp_path / "ziel")
    assert not (tmp_path / "ziel").exists()
