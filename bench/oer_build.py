"""Cartridge builder: a 10,000-item and a 1 GB collection against ``zip -r``.

    .venv/bin/python bench/oer_build.py              # --rounds 2
    .venv/bin/python bench/oer_build.py --quick      # 1,000 items and 100 MB, a few seconds

Generates two collections in a temporary directory (fixed seed, removed at
the end):

* **many items**: 10,000 items in 50 modules — 5,000 small HTML pages (~2 KB,
  umlauts, each with its own ~6 KB image asset) and 5,000 ~6 KB images;
* **1 GB**: 200 × 5 MB videos (random bytes, ``.mp4``) in 10 modules.

Each collection is built by ``load_collection`` + ``build`` (CC 1.1) in a
subprocess, alternating with the ceiling, ``zip -r -q`` of the same folder,
best of ``--rounds``. Wall time is measured here, peak RSS by GNU time
(``/usr/bin/time -f %M``) for that one child; without GNU time RSS shows 0. The builder stores already-compressed formats (images,
video) and deflates the rest; ``zip -r -q -n <the same suffixes>`` does the
same work and is the ceiling the ratios use; plain ``zip -r -q`` (deflates
everything) is shown for reference. Throughput = collection bytes / wall time.

Then the produced manifest is validated with the official CC 1.1 XSDs
(lxml, schemas compiled once, parse + validate timed), and the packager's
whole ``oer_packager.validator.validate(path)`` is timed.
Prints a markdown table. Needs Info-ZIP ``zip`` (apt-get install zip).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else ""
sys.path.insert(0, str(ROOT))

from oer_packager.builder import STORED_SUFFIXES  # noqa: E402

BUILD_CHILD = """
import sys
from pathlib import Path
from oer_packager.builder import build
from oer_packager.collection import load_collection
collection, source, _ = load_collection(Path(sys.argv[1]))
build(collection, source, Path(sys.argv[2]))
"""

VALIDATE_CHILD = """
import sys
from oer_packager.validator import validate
validate(sys.argv[1])
"""


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    out_bytes: int


def run_child(cmd: list[str], out: Path, cwd: Path | None = None) -> Run:
    """Run ``cmd``; wall time and the child's own peak RSS.

    The RSS comes from GNU time (``/usr/bin/time -f %M``): a child forked
    from this Python process would report this process's RSS as its peak
    (Linux keeps the high-water mark across exec).
    """
    out.unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME else cmd
        start = time.perf_counter()
        proc = subprocess.run(full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(
                f"{' '.join(cmd[:3])} … failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}"
            )
        kib = int(rss.read().strip().splitlines()[-1]) if GNU_TIME else 0
    return Run(seconds, kib / 1024, out.stat().st_size if out.exists() else 0)


# -- data ----------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
<p>{text}</p>
<img src="../bilder/{image}" alt="Abbildung zu {title}">
<p>{text}</p>
</body>
</html>
"""
WORDS = "Übung Größe Maßstab Bruch Zähler Nenner Ergebnis prüfen Lösung Aufgabe Schülerin Lehrkraft".split()


def fake_png(rng: random.Random, size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size - 8)


def make_many(folder: Path, items: int, seed: int) -> int:
    """``items`` items: half pages with an image asset each, half images."""
    rng = random.Random(seed)
    (folder / "seiten").mkdir(parents=True)
    (folder / "bilder").mkdir()
    modules = 50 if items >= 5000 else 10
    per_module = items // modules
    lines = ["title: Große Sammlung", "licence: CC-BY-SA-4.0", "authors: [Fachgruppe Mathematik]", "modules:"]
    for m in range(modules):
        lines += [f"  - module: Kapitel {m + 1}", "    items:"]
        for i in range(per_module):
            n = m * per_module + i
            if i % 2 == 0:
                title = f"Seite {n} – {rng.choice(WORDS)}"
                text = " ".join(rng.choice(WORDS) for _ in range(120))
                (folder / "seiten" / f"seite-{n}.html").write_text(
                    PAGE.format(title=title, text=text, image=f"abb-{n}.png"), "utf-8"
                )
                (folder / "bilder" / f"abb-{n}.png").write_bytes(fake_png(rng, 6000))
                lines += [f"      - file: seiten/seite-{n}.html", f'        title: "{title}"',
                          f"        assets: [bilder/abb-{n}.png]"]  # fmt: skip
            else:
                (folder / "bilder" / f"bild-{n}.png").write_bytes(fake_png(rng, 6000))
                lines.append(f"      - file: bilder/bild-{n}.png")
    (folder / "collection.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return modules * per_module


def make_large(folder: Path, files: int, size: int, seed: int) -> int:
    rng = random.Random(seed)
    (folder / "videos").mkdir(parents=True)
    lines = ["title: Videosammlung", "licence: CC-BY-4.0", "modules:"]
    block = rng.randbytes(size)
    for n in range(files):
        if n % (files // 10 or 1) == 0:
            lines += [f"  - module: Teil {n // (files // 10 or 1) + 1}", "    items:"]
        # Every file differs (a fresh 64 KB head) so nothing deduplicates anywhere.
        (folder / "videos" / f"video-{n:03d}.mp4").write_bytes(rng.randbytes(65536) + block[65536:])
        lines.append(f"      - file: videos/video-{n:03d}.mp4")
    (folder / "collection.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return files


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# -- measuring --------------------------------------------------------------------------


def measure(name: str, folder: Path, work: Path, rounds: int) -> dict[str, object]:
    out = work / f"{name}.imscc"
    zipped = work / f"{name}.zip"
    zipped_all = work / f"{name}-deflate.zip"
    store = ":".join(sorted(STORED_SUFFIXES))
    builds, zips, zips_all = [], [], []
    for _ in range(rounds):
        zips.append(run_child(["zip", "-r", "-q", "-n", store, str(zipped), "."], zipped, cwd=folder))
        builds.append(run_child([sys.executable, "-c", BUILD_CHILD, str(folder), str(out)], out, cwd=ROOT))
    zips_all.append(run_child(["zip", "-r", "-q", str(zipped_all), "."], zipped_all, cwd=folder))
    best_build = min(builds, key=lambda r: r.seconds)
    best_zip = min(zips, key=lambda r: r.seconds)
    size = folder_bytes(folder)
    xsd_seconds, manifest_bytes = time_xsd(out)
    validate_seconds = time_validator(out)
    return {
        "name": name,
        "input_mb": size / 1e6,
        "build": best_build,
        "zip": best_zip,
        "zip_all": zips_all[0],
        "throughput": size / 1e6 / best_build.seconds,
        "zip_throughput": size / 1e6 / best_zip.seconds,
        "manifest_mb": manifest_bytes / 1e6,
        "xsd_seconds": xsd_seconds,
        "validate_seconds": validate_seconds,
        "entries": len(zipfile.ZipFile(out).namelist()),
    }


def time_xsd(cartridge: Path) -> tuple[float, int]:
    """Parse + validate the manifest against the official 1.1 schemas (compiled beforehand)."""
    from lxml import etree

    schema_file = ROOT / "oer_packager" / "schemas" / "cc11" / "cc11libxml2validator.xsd"
    schema = etree.XMLSchema(etree.parse(str(schema_file), etree.XMLParser(no_network=True)))
    data = zipfile.ZipFile(cartridge).read("imsmanifest.xml")
    start = time.perf_counter()
    doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True))
    ok = schema.validate(doc)
    seconds = time.perf_counter() - start
    if not ok:
        raise SystemExit(f"manifest of {cartridge.name} is not valid: {schema.error_log.last_error}")
    return seconds, len(data)


def time_validator(cartridge: Path) -> float | None:
    """Wall time of the validator's full ``validate(path)`` in a subprocess."""
    try:
        import oer_packager.validator  # noqa: F401
    except ImportError:
        return None
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", VALIDATE_CHILD, str(cartridge)], cwd=ROOT, capture_output=True)
    if proc.returncode != 0:
        return None
    return time.perf_counter() - start


def table(results: list[dict[str, object]]) -> str:
    rows = [
        "| collection | input | build | zip -r -n (ceiling) | build / ceiling | build MB/s | zip MB/s "
        "| build peak RSS | zip peak RSS | zip -r (deflate all) | manifest | XSD validate | cc validate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, z, za = r["build"], r["zip"], r["zip_all"]
        assert isinstance(b, Run) and isinstance(z, Run) and isinstance(za, Run)
        v = r["validate_seconds"]
        rows.append(
            f"| {r['name']} ({r['entries']:,} entries) | {r['input_mb']:,.0f} MB | {b.seconds:.2f} s "
            f"| {z.seconds:.2f} s | {b.seconds / z.seconds:.2f} × | {r['throughput']:,.0f} | {r['zip_throughput']:,.0f} "
            f"| {b.max_rss_mb:,.0f} MB | {z.max_rss_mb:,.0f} MB | {za.seconds:.2f} s | {r['manifest_mb']:.1f} MB "
            f"| {r['xsd_seconds']:.2f} s | {'n/a' if v is None else f'{v:.2f} s'} |"
        )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 items and 100 MB instead of 10,000 and 1 GB")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, best of (default 2)")
    parser.add_argument("--tmp", type=Path, default=None, help="where to put the collections (default: system temp)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("zip") is None:
        print("zip is not installed (Debian: apt-get install zip); it is the ceiling.", file=sys.stderr)
        return 2
    items, videos = (1_000, 20) if args.quick else (10_000, 200)
    with tempfile.TemporaryDirectory(prefix="oer-bench-", dir=args.tmp) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        n_items = make_many(work / "many", items, args.seed)
        make_large(work / "large", videos, 5 * 1024 * 1024, args.seed)
        print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        results = [
            measure(f"{n_items:,} items", work / "many", work, args.rounds),
            measure(f"{videos} × 5 MB", work / "large", work, args.rounds),
        ]
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
