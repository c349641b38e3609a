"""Embedded demo LMS (built in a following step)."""
