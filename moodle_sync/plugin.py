"""Package the companion Moodle plugin ``local_lmsbridge`` as an installable zip.

Moodle's plugin installer expects one top folder named like the plugin
without its type prefix (``lmsbridge/`` for ``local_lmsbridge``) holding
``version.php``. The zip is deterministic: sorted entries, fixed permissions
and every entry stamped with the date of ``$plugin->version`` (YYYYMMDDXX).
A constant stamp for every release would let PHP's opcache, which compares
modification times, keep running the old code after an unzip over it.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

PLUGIN_DIR = Path(__file__).parent / "moodle_plugin" / "local_lmsbridge"
COMPONENT = "local_lmsbridge"
TOP_FOLDER = "lmsbridge"

_ASSIGNMENT = re.compile(r"^\$plugin->(\w+)\s*=\s*'?([^';]*)'?\s*;", re.MULTILINE)


def plugin_version(plugin_dir: Path = PLUGIN_DIR) -> dict[str, str]:
    """Return the simple ``$plugin->name = value;`` assignments of version.php (component, version, ...)."""
    return dict(_ASSIGNMENT.findall((plugin_dir / "version.php").read_text(encoding="utf-8")))


def _timestamp(version: str) -> tuple[int, int, int, int, int, int]:
    """Turn YYYYMMDDXX into that day at 00:XX minutes, as a zip time."""
    stamp = datetime.strptime(version[:8], "%Y%m%d") + timedelta(minutes=int(version[8:10]))
    return stamp.timetuple()[:6]


def plugin_files(plugin_dir: Path = PLUGIN_DIR) -> list[Path]:
    """Return the plugin's files relative to its folder, sorted; hidden files and editor leftovers excluded."""
    return sorted(
        path.relative_to(plugin_dir)
        for path in plugin_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(plugin_dir).parts)
        and not path.name.endswith("~")
    )


def build_plugin_zip(out_path: str | Path, plugin_dir: Path = PLUGIN_DIR) -> Path:
    """Write the plugin as ``lmsbridge/...`` into the zip at ``out_path`` and return its path."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = plugin_files(plugin_dir)
    stamp = _timestamp(plugin_version(plugin_dir)["version"])
    folders = sorted({parent for rel in files for parent in rel.parents if parent != Path(".")} | {Path(".")})
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder in folders:
            name = f"{TOP_FOLDER}/" if folder == Path(".") else f"{TOP_FOLDER}/{folder.as_posix()}/"
            info = zipfile.ZipInfo(name, stamp)
            info.external_attr = (0o40755 << 16) | 0x10  # directory, drwxr-xr-x
            archive.writestr(info, b"")
        for rel in files:
            info = zipfile.ZipInfo(f"{TOP_FOLDER}/{rel.as_posix()}", stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # regular file, -rw-r--r--
            archive.writestr(info, (plugin_dir / rel).read_bytes())
    return out
