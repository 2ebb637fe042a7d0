"""fakesnow server launcher with two patches (server side only; the connector is untouched).

Usage: python fakesnow_launch.py [--port N]   -> prints "FAKESNOW_READY port=<port>" when listening; SIGTERM/SIGINT stop.

Patch 1: a login naming a database or schema that does not exist leaves the session without a
current database or schema, as Snowflake does; fakesnow by default creates them on login, which
would hide a misspelt `database` or `schema`. Create them with CREATE DATABASE / SCHEMA first.

Patch 2: snowflake-connector-python's real write_pandas() issues
    COPY INTO t (...) FROM (SELECT $1:"A",... FROM '@"SNOWPARK_TEMP_STAGE_X"') FILE_FORMAT=(TYPE=PARQUET ...)
i.e. the stage is a *quoted string literal*; fakesnow 0.12.1 only accepts an unquoted @stage there and fails with
"001011 (42601): SQL compilation error: invalid URL prefix found in: '@"SNOWPARK_TEMP_STAGE_X"'".
"""

from __future__ import annotations

import argparse
import signal
import socket
import threading


def patch() -> None:
    import fakesnow.copy_into as ci
    from sqlglot import exp

    orig = ci._from_source

    def _from_source(expr: exp.Copy) -> str:
        from_ = expr.args["files"][0].this
        if isinstance(from_, exp.Select):
            src = from_.args.get("from_")
            if isinstance(src, exp.From) and isinstance(src.this, exp.Table):
                lit = src.this.this
                if isinstance(lit, exp.Literal) and lit.is_string and lit.this.startswith("@"):
                    return lit.this
        return orig(expr)

    ci._from_source = _from_source


def strict_namespaces() -> None:
    import fakesnow.server
    from fakesnow.instance import FakeSnow

    fakesnow.server.shared_fs = FakeSnow(
        create_database_on_connect=False, create_schema_on_connect=False
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    patch()
    from fakesnow import (
        server as fs_server,  # bind the function before fakesnow.server (module) shadows it
    )

    strict_namespaces()

    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with fs_server(port=port, host="127.0.0.1"):
        print(f"FAKESNOW_READY port={port}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
