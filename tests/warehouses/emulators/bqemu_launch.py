"""Offline launcher for bqemulator (server side only; the BigQuery client is untouched).

Usage:  python bqemu_launch.py [--project test-project] [--data-dir DIR]
Binds REST and gRPC on random free ports of 127.0.0.1 and prints one line
    BQEMU_READY rest=<port> grpc=<port>
on stdout once both listen. Stops cleanly on SIGTERM/SIGINT.

Patches applied before start:
 1. spatial: if the pip package `duckdb-extension-spatial` (same version as duckdb) is
    installed, INSTALL it from its file so bqemulator's `INSTALL spatial; LOAD spatial`
    works offline. If it is not available, bqemulator's hard failure is downgraded to a
    warning (GEOGRAPHY / ST_* functions then fail, everything else works).
 1b. offline: `SET autoinstall_known_extensions=false` on the engine connection and
    enable_format_extensions=False (else bqemulator tries to download `avro` at start).
 2. upload: google-cloud-bigquery sends the media part of a multipart load upload with
    Content-Type '*/*'; bqemulator 1.3/1.4 rejects that ("multipart upload's second part
    has unsupported Content-Type '*/*'"), which breaks load_table_from_dataframe /
    load_table_from_file for files < 5 MB. We add '*/*' to its whitelist.
 3. Storage Read API on query results: bqemulator keeps SELECT results in memory
    (JOB_RESULTS) under a synthetic `_bqemu_anonymous.anon<jobid>` destination, but its
    Storage Read handler only reads real DuckDB tables -> "404 Table read failed: Catalog
    Error: Table with name ... does not exist". We materialise the result into DuckDB just
    for the CreateReadSession call (then drop it), so `QueryJob.to_dataframe/to_arrow`
    with a bqstorage client works.
"""

from __future__ import annotations

import pathlib
import sys


def _preinstall_spatial() -> bool:
    try:
        import duckdb
        import duckdb_extension_spatial as d
    except ImportError:
        return False
    files = list(
        (pathlib.Path(d.__file__).parent / "extensions").glob(
            f"v{duckdb.__version__}/spatial.duckdb_extension"
        )
    )
    if not files:
        print(
            f"[bqemu_launch] duckdb-extension-spatial does not match duckdb {duckdb.__version__}",
            file=sys.stderr,
        )
        return False
    con = duckdb.connect()
    con.execute(f"INSTALL '{files[0]}'")  # copies into <extension_directory>, idempotent
    con.close()
    return True


def _patch_anonymous_storage_reads() -> None:
    from bqemulator.grpc_api import read_servicer as rs
    from bqemulator.jobs import executor
    from bqemulator.storage.sql_identifiers import quoted_schema, quoted_table_ref

    orig = rs.BigQueryReadHandler._handle_create_read_session

    def patched(self, request_bytes, context):  # type: ignore[no-untyped-def]
        from google.cloud.bigquery_storage_v1 import types

        ref = None
        try:
            req = types.CreateReadSessionRequest.deserialize(request_bytes)
            parsed = rs._parse_table_path(req.read_session.table)
            if (
                parsed
                and parsed[1] == executor._ANONYMOUS_RESULTS_DATASET
                and parsed[2].startswith("anon")
            ):
                flat = parsed[2][4:]
                job_id = (
                    f"{flat[0:8]}-{flat[8:12]}-{flat[12:16]}-{flat[16:20]}-{flat[20:32]}"
                    if len(flat) == 32
                    else flat
                )
                table = executor.JOB_RESULTS.get(job_id)
                if table is not None:
                    cur = self._ctx.engine.connection.cursor()
                    cur.execute(
                        f"CREATE SCHEMA IF NOT EXISTS {quoted_schema(parsed[0], parsed[1])}"
                    )
                    ref = quoted_table_ref(*parsed)
                    cur.register("__bqemu_anon_src", table)
                    cur.execute(f"CREATE OR REPLACE TABLE {ref} AS SELECT * FROM __bqemu_anon_src")
                    cur.unregister("__bqemu_anon_src")
                    cur.close()
        except Exception as exc:
            print(f"[bqemu_launch] anonymous read patch failed: {exc}", file=sys.stderr)
        try:
            return orig(self, request_bytes, context)
        finally:
            if ref is not None:  # the session already holds the Arrow data
                cur = self._ctx.engine.connection.cursor()
                cur.execute(f"DROP TABLE IF EXISTS {ref}")
                cur.close()

    rs.BigQueryReadHandler._handle_create_read_session = patched


def _patch() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.storage import engine

    upload._PERMITTED_MEDIA_CONTENT_TYPES = (*tuple(upload._PERMITTED_MEDIA_CONTENT_TYPES), "*/*")

    _patch_anonymous_storage_reads()

    # Never let DuckDB reach out to extensions.duckdb.org.
    orig_pragmas = engine.DuckDBEngine._apply_session_pragmas

    def _pragmas_offline(self):  # type: ignore[no-untyped-def]
        orig_pragmas(self)
        self._connection.execute("SET autoinstall_known_extensions = false")

    engine.DuckDBEngine._apply_session_pragmas = _pragmas_offline

    if not _preinstall_spatial():

        def _no_spatial(self):  # type: ignore[no-untyped-def]
            print(
                "[bqemu_launch] spatial extension not available offline: GEOGRAPHY/ST_* disabled",
                file=sys.stderr,
            )

        engine.DuckDBEngine._load_spatial = _no_spatial


def start_in_thread(project: str = "test-project", log_level: str = "warning"):
    """In-process mode: run bqemulator on a background thread + event loop of *this* process.
    Returns (server, stop). server.rest_url / server.grpc_endpoint are the loopback endpoints.
    (bqemulator.testing._thread_runner does the same but importing bqemulator.testing pulls in
    `testcontainers`.)"""
    import asyncio
    import threading

    _patch()
    from bqemulator.config import LogFormat, LogLevel, PersistenceMode, Settings
    from bqemulator.server import EmulatorServer

    server = EmulatorServer(
        Settings(
            rest_host="127.0.0.1",
            rest_port=0,
            grpc_host="127.0.0.1",
            grpc_port=0,
            default_project_id=project,
            persistence_mode=PersistenceMode.EPHEMERAL,
            enable_format_extensions=False,
            log_level=LogLevel(log_level),
            log_format=LogFormat("json"),
        )
    )
    loop = asyncio.new_event_loop()
    started, err = threading.Event(), []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as e:
            err.append(e)
        started.set()
        if not err:
            loop.run_forever()

    t = threading.Thread(target=run, name="bqemulator", daemon=True)
    t.start()
    started.wait(90)
    if err:
        raise err[0]

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        t.join(30)

    return server, stop


def main() -> None:
    import argparse
    import asyncio
    import signal

    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default="test-project")
    ap.add_argument("--data-dir", default=None, help="persistent DuckDB dir (default: in-memory)")
    ap.add_argument("--rest-port", type=int, default=0)
    ap.add_argument("--grpc-port", type=int, default=0)
    ap.add_argument("--log-level", default="warning")
    args = ap.parse_args()

    _patch()
    from bqemulator.config import LogFormat, LogLevel, PersistenceMode, Settings
    from bqemulator.server import EmulatorServer

    kw = {
        "rest_host": "127.0.0.1",
        "rest_port": args.rest_port,
        "grpc_host": "127.0.0.1",
        "grpc_port": args.grpc_port,
        "default_project_id": args.project,
        "log_level": LogLevel(args.log_level),
        "log_format": LogFormat("json"),
        "persistence_mode": PersistenceMode.PERSISTENT
        if args.data_dir
        else PersistenceMode.EPHEMERAL,
        # avro extension would be downloaded from extensions.duckdb.org at startup -> off
        "enable_format_extensions": False,
    }
    if args.data_dir:
        kw["data_dir"] = pathlib.Path(args.data_dir)
    server = EmulatorServer(Settings(**kw))

    async def run() -> None:
        await server.start()
        print(f"BQEMU_READY rest={server.rest_port} grpc={server.grpc_port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(run())


if __name__ == "__main__":
    main()
