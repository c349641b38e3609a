"""Pages of this workspace part."""

from __future__ import annotations
