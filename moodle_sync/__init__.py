"""LMS web-service clients (Moodle REST, itslearning) and the sync engine. No Flask imports."""
