"""Reading side of the OER packager: validate, read and convert large cartridges.

    .venv/bin/python bench/oer_validate.py            # 10,000 items and 1 GB, --rounds 2
    .venv/bin/python bench/oer_validate.py --quick    # 1,000 items and 100 MB

Builds two CC 1.3 cartridges in a temporary directory (fixed seed, removed at
the end) with the builder from an in-memory collection:

* **many items**: N pages (~2 KB, umlauts, each linking its own ~6 KB image);
* **large**: M × 5 MB files of random bytes (``.mp4``).

Then, each in a child process (wall time here, peak RSS by GNU time), best of
``--rounds``: ``validate()``, ``read_cartridge()`` (outline and metadata),
``convert()`` to CC 1.1, and as the ceiling ``unzip -tqq`` — Info-ZIP testing
every entry's CRC, the least any validator that reads every byte must do.
Prints a markdown table.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oer_packager.builder import build  # noqa: E402
from oer_packager.collection import FolderSource  # noqa: E402
from oer_packager.model import Collection, Item, ItemKind, Module, Person  # noqa: E402

GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else ""

CHILDREN = {
    "validate": "from oer_packager.validator import validate; import sys; validate(sys.argv[1])",
    "read": "from oer_packager.reader import read_cartridge; import sys\n"
    "with read_cartridge(sys.argv[1]) as c: c.collection.items()",
    "convert": "from oer_packager.convert import convert; import sys; convert(sys.argv[1], sys.argv[2])",
}

PAGE = (
    '<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><title>{t}</title></head>\n'
    '<body><h1>{t}</h1><p>{p}</p><img src="bilder/{i}" alt="Abbildung"><p>{p}</p></body></html>\n'
)


def make_many(folder: Path, items: int, rng: random.Random) -> Collection:
    (folder / "bilder").mkdir(parents=True)
    modules = [Module(title=f"Kapitel {m + 1}: Übungen") for m in range(max(1, items // 200))]
    for n in range(items):
        image = f"bild-{n:05}.png"
        (folder / "bilder" / image).write_bytes(rng.randbytes(6000))
        text = " ".join(rng.choice(["Bruch", "Zähler", "Nenner", "kürzen", "größer", "Übung"]) for _ in range(250))
        (folder / f"seite-{n:05}.html").write_text(PAGE.format(t=f"Seite {n}", p=text, i=image), encoding="utf-8")
        page = Item(ItemKind.PAGE, f"Seite {n} – Brüche", path=f"seite-{n:05}.html", assets=[f"bilder/{image}"])
        modules[n % len(modules)].children.append(page)
    return _collection("Viele Seiten", modules)


def make_large(folder: Path, files: int, rng: random.Random) -> Collection:
    folder.mkdir(parents=True)
    module = Module(title="Videos")
    for n in range(files):
        (folder / f"video-{n:03}.mp4").write_bytes(rng.randbytes(5 * 1024 * 1024))
        module.children.append(Item(ItemKind.FILE, f"Video {n}", path=f"video-{n:03}.mp4"))
    return _collection("Große Dateien", [module])


def _collection(title: str, modules: list[Module]) -> Collection:
    return Collection(title=title, authors=[Person("Bench")], licence="CC-BY-SA-4.0", modules=modules)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME else cmd
        start = time.perf_counter()
        proc = subprocess.run(full, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
        kib = int(rss.read().strip().splitlines()[-1]) if GNU_TIME else 0
    return seconds, kib / 1024


def measure(name: str, cartridge: Path, work: Path, rounds: int) -> dict[str, object]:
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        runs = {
            "unzip -t": ["unzip", "-tqq", str(cartridge)],
            **{
                k: [sys.executable, "-c", code, str(cartridge), str(work / "out.imscc")] for k, code in CHILDREN.items()
            },
        }
        for key, cmd in runs.items():
            (work / "out.imscc").unlink(missing_ok=True)
            result = timed(cmd)
            best[key] = min(best.get(key, result), result)
    size = cartridge.stat().st_size / 2**20
    return {"name": name, "size": size, **best}


def table(rows: list[dict[str, object]]) -> str:
    keys = ["unzip -t", "validate", "read", "convert"]
    head = "| cartridge | size | " + " | ".join(keys) + " | validate / unzip -t | validate MB/s |"
    lines = [head, "|" + "---|" * (len(keys) + 4)]
    for r in rows:
        cells = [f"{r[k][0]:.2f} s, {r[k][1]:.0f} MB" for k in keys]  # type: ignore[index]
        ratio = r["validate"][0] / r["unzip -t"][0]  # type: ignore[index]
        rate = r["size"] / r["validate"][0]  # type: ignore[index, operator]
        lines.append(f"| {r['name']} | {r['size']:.0f} MB | " + " | ".join(cells) + f" | {ratio:.1f} × | {rate:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 items and 100 MB instead of 10,000 and 1 GB")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("unzip"):
        print("needs Info-ZIP unzip (apt-get install unzip)", file=sys.stderr)
        return 2
    items, files = (1000, 20) if args.quick else (10_000, 200)
    work = Path(tempfile.mkdtemp(prefix="oer-validate-"))
    try:
        rng = random.Random(args.seed)
        rows = []
        for name, make in ((f"{items:,} pages", make_many), (f"{files} × 5 MB", make_large)):
            folder = work / name.split()[0]
            collection = make(folder, items if make is make_many else files, rng)
            cartridge = work / f"{folder.name}.imscc"
            build(collection, FolderSource(folder), cartridge, cc_version="1.3")
            shutil.rmtree(folder)
            rows.append(measure(name, cartridge, work, args.rounds))
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}\n")
        print(table(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
