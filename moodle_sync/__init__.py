"""LMS web-service clients (Moodle REST, itslearning) and the sync engine. No Flask imports.

Modules, from the wire up:

- ``errors``    the exception tree (root ``SyncError``), drawn in its docstring
- ``params``    arguments as PHP form variables: flattening, counting, the truncation tripwire
- ``records``   typed views of Moodle's answers (``SiteInfo``, ``Course``, ``Section``, …)
- ``client``    ``MoodleClient``: one session, typed errors, read-only retries, batches, upload, ``token_for``
- ``preflight`` what the token's service allows per feature, what to enable, the fallbacks
- ``desired``   the desired state of a network, built by the caller (``DesiredNetwork`` …)
- ``mapping``   ports the caller implements: ``MappingStore`` (Moodle ids and content hashes), ``TargetLock``
- ``plan``      ``plan()``: reads only, returns a readable diff (create/update/leave/remove with reasons)
- ``engine``    ``apply()`` and ``sync()``: batched, idempotent, resumable; ``ApplyReport``

Importing the package has no side effects.
"""
