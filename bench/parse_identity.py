"""The import's parse phase, this checkout against a reference revision: identical output, and
the CPU each takes.

    .venv/bin/python bench/parse_identity.py                    # identity on the default files
    .venv/bin/python bench/parse_identity.py --time 3 FILE...   # + CPU, best of 3, old vs new
    .venv/bin/python bench/parse_identity.py --no-check --time 3 FILE...   # CPU only
    .venv/bin/python bench/parse_identity.py --ref REV --show FILE N   # record N, both sides

The reference revision is extracted with `git archive` under /tmp and run in its own process,
as is this checkout. Each process mirrors identification._parse_and_write (which it imports
its helpers from, lean_raw and _json_text): parse_stream over the file, the row tuple and the
DedupItem per record, copy_lines per 2,000 rows. For identity it digests, per record, the
repr of every ImportedRecord field (raw and line included), the row, the DedupItem and the
COPY line; then the warnings, the format, the count or the error. Default files: the
generated 100k-record benchmark files under /tmp/imp (when present) and every file under
fixtures/samples. The CPU time is time.process_time() of that phase alone (the file already
read, modules imported, the cycle collector paused as in the import service), each run in a
fresh process, old and new alternating.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REF = "aa16de3"
BENCH_FILES = ("/tmp/imp/bench2-100000.ris", "/tmp/imp/bench2-100000.txt",
               "/tmp/imp/bench-100000.ris")  # fmt: skip
BULK = 2000  # identification.BULK
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)


def _setup(root: str):
    sys.path.insert(0, root)
    os.chdir(root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthesis.settings")
    import django

    django.setup()


def _phase(data: bytes, name: str, on_chunk) -> tuple:
    """_parse_and_write's loop, with rows turned into COPY lines as RecordWriter.put does on
    PostgreSQL. `on_chunk(records, rows, items, lines)` sees each chunk (None: timing)."""
    from studies import dedup
    from studies.importers import parse_stream
    from studies.services import identification, record_writer

    dumps, lean_raw = identification._json_text, identification.lean_raw
    fold, item = dedup.fold, dedup.DedupItem
    copy_lines = record_writer.copy_lines
    null = record_writer._NULL
    review_id, batch_id, now = 7, 11, NOW
    stream = parse_stream(data, filename=name)
    rows: list[tuple] = []
    items: list = []
    recs: list = []
    position = 1
    keep = on_chunk is not None
    for r in stream:
        folded = fold(r.title)
        rows.append((
            review_id, batch_id, position, r.title, r.abstract, dumps(r.authors),
            null if r.year is None else r.year,
            r.journal, r.volume, r.issue, r.pages, r.doi, r.pmid, r.url, dumps(r.keywords),
            r.type, r.language, dumps(lean_raw(r)), folded[:255], "", now,
        ))  # fmt: skip
        items.append(item(
            id=-position, title=r.title, authors=r.authors[:8], year=r.year, journal=r.journal,
            volume=r.volume, issue=r.issue, pages=r.pages, doi=r.doi, pmid=r.pmid, type=r.type,
            folded_title=folded,
        ))  # fmt: skip
        if keep:
            recs.append(r)
        position += 1
        if len(rows) >= BULK:
            lines = copy_lines(rows)
            if keep:
                on_chunk(recs, rows, items[-len(rows) :], lines)
                recs = []
            rows = []
    if rows:
        lines = copy_lines(rows)
        if keep:
            on_chunk(recs, rows, items[-len(rows) :], lines)
    return stream, items


def _fields(rec) -> tuple:
    return tuple((f, getattr(rec, f)) for f in rec.__slots__)


def _item_fields(it) -> tuple:
    import dataclasses

    return tuple((f.name, getattr(it, f.name)) for f in dataclasses.fields(it))


def _digest(parts) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def worker_digest(path: str) -> dict:
    hashes: list[str] = []

    def on_chunk(recs, rows, items, lines):
        assert len(recs) == len(rows) == len(items) == len(lines)  # noqa: S101
        for rec, row, it, line in zip(recs, rows, items, lines, strict=True):
            hashes.append(_digest((_fields(rec), row, _item_fields(it), line)))

    out: dict = {"error": None}
    data = Path(path).read_bytes()
    stream = None
    try:
        stream, _ = _phase(data, Path(path).name, on_chunk)
    except Exception as exc:  # noqa: BLE001 (an error is output too: compared, not raised)
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["hashes"] = hashes
    if stream is not None:
        out.update(format=stream.format, count=stream.count, warnings=stream.warnings)
    return out


def worker_show(path: str, index: int) -> dict:
    shown: dict = {}
    seen = [0]

    def on_chunk(recs, rows, items, lines):
        for rec, row, it, line in zip(recs, rows, items, lines, strict=True):
            if seen[0] == index:
                shown.update(record=repr(_fields(rec)), row=repr(row), item=repr(it), line=line)
            seen[0] += 1

    _phase(Path(path).read_bytes(), Path(path).name, on_chunk)
    return shown


def worker_time(path: str) -> dict:
    import gc

    from studies import dedup, importers  # noqa: F401 (imported before the clock starts)
    from studies.importers import ris, tagged  # noqa: F401
    from studies.services import identification, record_writer  # noqa: F401

    data = Path(path).read_bytes()
    gc.collect()
    gc.disable()  # as in the import service
    c0 = time_cpu()
    _, items = _phase(data, Path(path).name, None)
    cpu = time_cpu() - c0
    return {"cpu": cpu, "n": len(items)}


def time_cpu() -> float:
    import time

    return time.process_time()


def ref_tree(rev: str) -> Path:
    """The reference revision's files under /tmp (extracted once)."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    dest = Path("/tmp") / f"parse-identity-{sha[:12]}"
    if not (dest / "studies").is_dir():
        archive = subprocess.run(["git", "archive", sha], cwd=REPO, capture_output=True,
                                 check=True).stdout  # fmt: skip
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def run(root: Path, mode: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(root), mode, *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def default_files() -> list[str]:
    files = [f for f in BENCH_FILES if Path(f).exists()]
    files += sorted(str(p) for p in (REPO / "fixtures" / "samples").rglob("*") if p.is_file())
    return files


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["--worker"]:
        root, mode, *args = argv[1:]
        _setup(root)
        if mode == "digest":
            result = worker_digest(args[0])
        elif mode == "show":
            result = worker_show(args[0], int(args[1]))
        else:
            result = worker_time(args[0])
        print(json.dumps(result))
        return
    rev, repeat, check = DEFAULT_REF, 0, True
    while argv[:1] and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--ref":
            rev = argv.pop(0)
        elif opt == "--time":
            repeat = int(argv.pop(0))
        elif opt == "--no-check":
            check = False
        elif opt == "--show":
            path, index = argv
            ref = ref_tree(rev)
            for label, root in (("old", ref), ("new", REPO)):
                print(label, json.dumps(run(root, "show", path, index), indent=1))
            return
        else:
            raise SystemExit(__doc__)
    ref = ref_tree(rev)
    files = argv or default_files()
    failed = 0
    for path in files if check else ():
        old, new = run(ref, "digest", path), run(REPO, "digest", path)
        same = old == new
        n = len(new["hashes"])
        if not same:
            failed += 1
            first = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(old["hashes"], new["hashes"], strict=False))
                    if a != b
                ),
                min(len(old["hashes"]), n),
            )
            rest = {k for k in old if k != "hashes" and old.get(k) != new.get(k)}
            print(f"DIFFERENT {path}: {n} records; first record differing {first}; other {rest}")
        else:
            print(f"same      {path}: {n} records, {len(new.get('warnings') or [])} warnings"
                  + (f", error {new['error']!r}" if new["error"] else ""))  # fmt: skip
    if check:
        print(f"{len(files) - failed}/{len(files)} files identical to {rev}")
    if repeat:
        bench = [f for f in files if Path(f).stat().st_size > 10_000_000]
        print(f"parse phase CPU (process_time), best of {repeat}, old ({rev}) vs new:")
        for path in bench:
            times: dict = {"old": [], "new": []}
            for _ in range(repeat):
                times["old"].append(run(ref, "time", path)["cpu"])
                times["new"].append(run(REPO, "time", path)["cpu"])
            o, n = min(times["old"]), min(times["new"])
            print(f"  {Path(path).name:<22} old {o:6.2f}s  new {n:6.2f}s  saved {o - n:5.2f}s "
                  f"({(o - n) / o:.0%})  load {os.getloadavg()[0]:.1f}")  # fmt: skip
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
