"""Tests of moodle_sync: the Moodle client and the sync engine against a fake Moodle server."""
