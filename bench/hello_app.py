"""The benchmark's ceiling: a minimal Flask app served exactly like the tool.

``python bench/hello_app.py --host 127.0.0.1 --port 5099 --workers 2 --threads 4``
runs ``lms-bridge serve`` with the same options, so gunicorn's configuration
(worker class, workers, threads, access log, timeout) is the tool's own, only
the WSGI app differs: ``create_app`` is swapped for this module's ``app``.
"""

from __future__ import annotations

import argparse

from flask import Flask, request

app = Flask(__name__)


@app.route("/hello", methods=["GET", "POST"])
def hello() -> tuple[str, int, dict[str, str]]:
    # Touch the form like the tool does, so the body is parsed in both cases.
    size = sum(len(v) for v in request.form.values())
    return f"hello {size}", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)

    import lti_tool
    from lti_tool.cli import main as cli

    # `lms-bridge serve` imports create_app when it starts: it gets this app.
    lti_tool.create_app = lambda *a, **k: app  # type: ignore[assignment]
    cli.main(
        [
            "serve",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        prog_name="lms-bridge",
    )


if __name__ == "__main__":
    main()
