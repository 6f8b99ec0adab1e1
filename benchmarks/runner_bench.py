"""Runner benchmark: concurrent fetching against a local portal with latency.

Usage::

    .venv/bin/python benchmarks/runner_bench.py                 # defaults: 200 connections x 25 documents, 50 ms
    .venv/bin/python benchmarks/runner_bench.py --connections 50 --documents 10 --no-memory

Prints ONE JSON line: documents, wall seconds, docs/s, the sequential
baseline's docs/s (measured in the same run), speed-up, the ideal docs/s for
the configured concurrency and latency, efficiency (achieved / ideal), peak
RSS, and the memory runs (peak RSS at 1,000 and 10,000 documents, each in a
fresh process) with their growth.

* The portal runs in its own process (the machine's other core), every
  request delayed by ``--latency``: login form, login, invoice list pages
  (50 rows each) and one PDF per document, each PDF distinct.
* The runner is dextcore's, unmodified: ``--workers`` scheduler daemons
  (``serve(once=True)``, as ``dextcore run --once``) claim the due
  connections from the shared store — by default one per CPU core, the
  deployment docs/operations.md recommends, since one Python process
  drives its crawls on one core; each runs one Scrapy crawl per
  connection, ``--max-crawls`` at once, ``--downloads`` documents in flight
  per connection, documents stored by the real inbox (SQLite by default,
  ``--postgres URL`` for PostgreSQL; atomic writes with fsync).
  ``--workers 1 --max-crawls 12`` measures a single process.
* The baseline is the same code with every cap at one — one connection at
  a time, one request at a time (how woob and amazon-orders work) — over
  ``--baseline-connections`` connections (its rate does not depend on how
  many).
* Ideal: a runner with zero overhead under the same caps. A connection
  needs ``3 + pages`` sequential requests (session check, login form, login,
  list pages) and then ``ceil(M / downloads)`` rounds of downloads, each
  costing one latency; connections run in ``ceil(N / max_crawls)`` waves.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiohttp import web  # noqa: E402

from dextcore.hookspecs import hookimpl  # noqa: E402
from dextcore.outcomes import IncorrectCredentials, LayoutChanged  # noqa: E402
from dextcore.records import Connector, ConnectorKind, DocumentRef, Downloaded, Variant  # noqa: E402
from dextcore.sandbox import InvoiceLine, SandboxPortal, SandboxServer, invoice_pdf  # noqa: E402

PAGE = 50


# -- the portal (runs in its own process) ------------------------------------------


class BenchPortal(SandboxPortal):
    """Accounts ``u<n>`` / ``pw<n>`` exist for every n; each has ``documents`` invoices."""

    name = "bench"
    connector = "bench_portal"

    def __init__(self, documents: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.documents = documents
        self._pdfs: dict[tuple[str, int], bytes] = {}
        self._lock = threading.Lock()

    def build_app(self) -> web.Application:
        app = super().build_app()
        app.router.add_get("/account", self.account)
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_get("/invoices", self.invoices)
        app.router.add_get("/doc/{user}/{n}.pdf", self.pdf)
        return app

    @staticmethod
    def _page(body: str) -> web.Response:
        return web.Response(text=f"<html><body>{body}</body></html>", content_type="text/html")

    async def account(self, request: web.Request) -> web.Response:
        user = request.cookies.get("sid")
        return self._page(f'<h1 id="welcome">{user}</h1>' if user else '<p id="signin">Please sign in</p>')

    async def login_form(self, request: web.Request) -> web.Response:
        return self._page('<form id="login" method="post" action="/login"><input type="hidden" name="t" value="1">'
                          '<input name="username"><input name="password" type="password"></form>')

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        user = str(form.get("username", ""))
        if not user.startswith("u") or form.get("password") != "pw" + user[1:]:
            return self._page('<p class="error">Incorrect password</p>')
        response = self._page(f'<h1 id="welcome">{user}</h1>')
        response.set_cookie("sid", user)
        return response

    async def invoices(self, request: web.Request) -> web.Response:
        user = request.cookies.get("sid")
        if not user:
            return self._page('<p id="signin">Please sign in</p>')
        page = int(request.query.get("page", "1"))
        rows = "".join(f'<tr class="doc" data-n="{n}"><td><a href="/doc/{user}/{n}.pdf">PDF</a></td></tr>'
                       for n in range((page - 1) * PAGE, min(page * PAGE, self.documents)))
        more = f'<a class="next" href="/invoices?page={page + 1}">next</a>' if page * PAGE < self.documents else ""
        return self._page(f'<table id="docs">{rows}</table>{more}')

    async def pdf(self, request: web.Request) -> web.Response:
        user, n = request.match_info["user"], int(request.match_info["n"])
        key = (user, n)
        with self._lock:
            body = self._pdfs.get(key)
        if body is None:
            body = invoice_pdf(number=f"{user}-{n}", date=dt.date(2025, 1, 1) + dt.timedelta(days=n % 300),
                               seller="Bench Ltd", buyer=user, lines=[InvoiceLine("Service", 1, "12.50")])
            with self._lock:
                self._pdfs[key] = body
        return web.Response(body=body, content_type="application/pdf")


def serve_portal(documents: int, latency: float) -> None:
    """Child process: serve the portal, print its URL, stop when stdin closes."""
    portal = BenchPortal(documents)
    portal.faults.latency = latency
    with SandboxServer([portal]) as server:
        print(server.root("bench"), flush=True)
        sys.stdin.read()


# -- the plugin ---------------------------------------------------------------------------


CONNECTOR = Connector(
    name="bench_portal", label="Bench portal", kind=ConnectorKind.SUPPLIER, implementation=sys.modules[__name__],
    variants=(Variant("default", "Bench", "https://bench.example", default=True),),
    allowed_domains=("bench.example",), max_concurrency=10_000,
)


@hookimpl
def register_connectors() -> list[Connector]:
    return [CONNECTOR]


@hookimpl
def alert(recipient: str, subject: str, body: str, connection: Any) -> bool:
    return True  # "Connected" alerts of the first fetches go nowhere (no SMTP server here)


@hookimpl
async def authenticate(session: Any) -> None:
    if (await session.get("/account")).css("h1#welcome"):
        return
    form = await session.get("/login")
    done = await session.submit_form(form, css="form#login",
                                     data={"username": session.username, "password": session.secret("password")})
    if done.css(".error"):
        raise IncorrectCredentials()
    if not done.css("h1#welcome"):
        raise LayoutChanged("after login", page=done)


@hookimpl
async def list_documents(session: Any, since: dt.date | None) -> AsyncIterator[DocumentRef]:
    url: str | None = "/invoices?page=1"
    while url:
        page = await session.get(url)
        for row in page.css("tr.doc"):
            n = row.attrib["data-n"]
            yield DocumentRef(stable_id=f"doc:{n}", number=n, url=page.urljoin(row.css("a::attr(href)").get()))
        url = page.css("a.next::attr(href)").get()


@hookimpl
async def download(session: Any, document: DocumentRef) -> Downloaded:
    response = await session.get(document.url)
    return Downloaded(body=response.body, filename=f"{document.number}.pdf")


# -- running ----------------------------------------------------------------------------------


def _open_app(home: Path, key: str) -> Any:
    from dextcore.api import Dextcore
    from dextcore.config import Config
    from dextcore.plugins import PluginHost

    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{home / 'dextcore.db'}"
    config = Config.from_env({}, home=home, database_url=database_url,
                             inbox_dir=home / "inbox", key_file=home / "vault.key", secret_key=key)
    app = Dextcore.open(config, host=PluginHost(load_entry_points=False, plugins=[sys.modules[__name__]]))
    app.add_user("bench@example.com")
    return app


def _connections(app: Any, root: str, first: int, count: int) -> list[int]:
    ids = []
    for n in range(first, first + count):
        created = app.connections.create(connector="bench_portal", owner="bench@example.com",
                                         created_by="bench@example.com", username=f"u{n}", password=f"pw{n}",
                                         base_url=root)
        ids.append(created.connection.id)
    return ids


def _timed_run(app: Any, ids: list[int], *, max_crawls: int, downloads: int, sequential: bool) -> tuple[float, list[Any]]:
    """Fetch ``ids`` in this process; returns (wall seconds, results)."""
    from dextcore.runner import Runner
    from dextcore.runner.reactor import run

    settings = {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1} if sequential else {}

    async def main() -> tuple[float, list[Any]]:
        runner = Runner(app, max_crawls=max_crawls, downloads_per_connection=downloads, settings=settings)
        start = time.perf_counter()
        results = await runner.fetch_many(ids)
        wall = time.perf_counter() - start
        runner.close()
        return wall, results

    return run(main())


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _check(results: list[Any], expected_docs: int | None) -> int:
    bad = [r for r in results if r.status.value != "connected"]
    if bad:
        raise SystemExit(f"{len(bad)} connections failed, e.g. {bad[0].status.value}: {bad[0].message}")
    got = sum(r.documents_new for r in results)
    if expected_docs is not None and got != expected_docs:
        raise SystemExit(f"expected {expected_docs} new documents, got {got}")
    return got


def worker(home: Path, key: str, max_crawls: int, downloads: int, store_threads: int = 2) -> None:
    """Child process: a scheduler daemon (``dextcore run --once``) over the shared store.

    Prints ``ready``, waits for a line on stdin, runs every due connection
    it can claim, prints its figures as JSON.
    """
    from dextcore.runner import Runner
    from dextcore.runner.daemon import serve
    from dextcore.runner.reactor import ensure_reactor, run

    app = _open_app(home, key)
    ensure_reactor()
    print("ready", flush=True)
    sys.stdin.readline()

    async def main() -> dict[str, Any]:
        runner = Runner(app, max_crawls=max_crawls, downloads_per_connection=downloads,
                        store_threads=store_threads)
        start, cpu = time.time(), time.process_time()
        results = await serve(runner, once=True, poll=1.0)
        end = time.time()
        runner.close()
        return {"start": start, "end": end, "cpu_s": time.process_time() - cpu, "connections": len(results),
                "documents": _check(results, None), "requests": sum(r.requests for r in results),
                "peak_rss_mb": _peak_rss_mb()}

    print(json.dumps(run(main())), flush=True)
    app.close()


def memory_child(root: str, connections: int, per_connection: int, max_crawls: int, downloads: int) -> None:
    """Child process: fetch ``connections x per_connection`` documents, print peak RSS."""
    from dextcore.vault import generate_key

    with tempfile.TemporaryDirectory(prefix="dextcore-bench-") as tmp:
        app = _open_app(Path(tmp), generate_key())
        ids = _connections(app, root, 0, connections)
        rss_before = _peak_rss_mb()
        wall, results = _timed_run(app, ids, max_crawls=max_crawls, downloads=downloads, sequential=False)
        docs = _check(results, connections * per_connection)
        print(json.dumps({"documents": docs, "wall_s": round(wall, 2), "rss_before_mb": round(rss_before, 1),
                          "peak_rss_mb": round(_peak_rss_mb(), 1)}), flush=True)
        app.close()


class _Portal:
    def __init__(self, documents: int, latency: float) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-portal", "--documents", str(documents),
                                      "--latency", str(latency)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=REPO)
        assert self.proc.stdout is not None
        self.root = self.proc.stdout.readline().strip()
        if not self.root.startswith("http"):
            raise SystemExit("the portal did not start")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def _memory_run(documents: int, latency: float, max_crawls: int, downloads: int, connections: int) -> dict[str, Any]:
    per = documents // connections
    portal = _Portal(per, latency)
    try:
        out = subprocess.run([sys.executable, __file__, "--memory-child", "--root", portal.root,
                              "--connections", str(connections), "--documents", str(per),
                              "--max-crawls", str(max_crawls), "--downloads", str(downloads)],
                             capture_output=True, text=True, cwd=REPO, timeout=3600)
    finally:
        portal.close()
    if out.returncode != 0:
        raise SystemExit(f"memory run of {documents} documents failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_workers(home: Path, key: str, count: int, max_crawls: int, downloads: int,
                 store_threads: int) -> list[dict[str, Any]]:
    env = dict(os.environ, BENCH_KEY=key)
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "--home", str(home),
                               "--max-crawls", str(max_crawls), "--downloads", str(downloads),
                               "--store-threads", str(store_threads)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=env)
             for _ in range(count)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a worker did not start")
        for proc in procs:  # all start together
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed (exit {proc.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--documents", type=int, default=25, help="documents per connection")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every portal response")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="runner processes (`dextcore run --once` daemons sharing the store; default: one per core)")
    parser.add_argument("--max-crawls", type=int, default=None,
                        help="connections fetched at once per worker (default: 12 in all, shared by the workers)")
    parser.add_argument("--downloads", type=int, default=4, help="documents in flight per connection")
    parser.add_argument("--store-threads", type=int, default=2,
                        help="threads for store calls per worker (0: on the event loop)")
    parser.add_argument("--baseline-connections", type=int, default=6)
    parser.add_argument("--memory", default="1000,10000", help="document counts of the memory runs")
    parser.add_argument("--memory-connections", type=int, default=40)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--postgres", metavar="URL",
                        help="run the store on PostgreSQL (a fresh database is created and dropped), "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--serve-portal", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.max_crawls is None:
        args.max_crawls = max(1, 12 // max(1, args.workers))

    if args.serve_portal:
        serve_portal(args.documents, args.latency)
        return 0
    if args.memory_child:
        memory_child(args.root, args.connections, args.documents, args.max_crawls, args.downloads)
        return 0
    if args.worker:
        worker(Path(args.home), os.environ["BENCH_KEY"], args.max_crawls, args.downloads, args.store_threads)
        return 0

    from dextcore.vault import generate_key

    n, m, latency = args.connections, args.documents, args.latency
    key = generate_key()
    with _database(args.postgres):
        return _main_run(args, key, n, m, latency)


@contextlib.contextmanager
def _database(admin_url: str | None) -> Any:
    """With ``admin_url``: a fresh PostgreSQL database for this run, in ``BENCH_DATABASE_URL``."""
    if not admin_url:
        yield
        return
    import sqlalchemy as sa

    name = f"dextcore_bench_{os.getpid()}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    os.environ["BENCH_DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        os.environ.pop("BENCH_DATABASE_URL", None)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _main_run(args: argparse.Namespace, key: str, n: int, m: int, latency: float) -> int:
    portal = _Portal(m, latency)
    try:
        with tempfile.TemporaryDirectory(prefix="dextcore-bench-") as tmp:
            home = Path(tmp)
            app = _open_app(home, key)
            base_ids = _connections(app, portal.root, 100_000, args.baseline_connections)
            base_wall, base_results = _timed_run(app, base_ids, max_crawls=1, downloads=1, sequential=True)
            base_docs = _check(base_results, args.baseline_connections * m)
            _connections(app, portal.root, 0, n)
            reports = _run_workers(home, key, args.workers, args.max_crawls, args.downloads, args.store_threads)
            app.close()
    finally:
        portal.close()

    docs = sum(r["documents"] for r in reports)
    if docs != n * m:
        raise SystemExit(f"expected {n * m} documents, the workers stored {docs}")
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    concurrency = args.workers * args.max_crawls
    pages = max(1, math.ceil(m / PAGE))
    per_connection = (3 + pages + math.ceil(m / args.downloads)) * latency
    ideal = n * m / (math.ceil(n / concurrency) * per_connection)
    rate, base_rate = docs / wall, base_docs / base_wall
    report: dict[str, Any] = {
        "connections": n, "documents_per_connection": m, "latency_s": latency, "workers": args.workers,
        "max_crawls_per_worker": args.max_crawls, "downloads_per_connection": args.downloads,
        "store_threads": args.store_threads,
        "documents": docs, "requests": sum(r["requests"] for r in reports), "wall_s": round(wall, 2),
        "docs_per_s": round(rate, 1), "baseline_docs_per_s": round(base_rate, 1), "baseline_documents": base_docs,
        "speedup": round(rate / base_rate, 1), "ideal_docs_per_s": round(ideal, 1),
        "efficiency": round(rate / ideal, 2), "peak_rss_mb": round(max(r["peak_rss_mb"] for r in reports), 1),
        "runner_cpu_s": round(sum(r["cpu_s"] for r in reports), 2),
        "connections_per_worker": [r["connections"] for r in reports], "cpu_count": os.cpu_count(),
        "store": "postgresql" if args.postgres else "sqlite",
    }
    counts = [int(x) for x in args.memory.split(",") if x.strip()] if not args.no_memory else []
    if counts:
        runs = [_memory_run(c, latency, args.max_crawls, args.downloads, args.memory_connections) for c in counts]
        report["memory_runs"] = runs
        report["memory_rss_growth_mb"] = round(runs[-1]["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
