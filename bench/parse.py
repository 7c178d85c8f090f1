"""Parse benchmark: our parser against a bare rispy parse of the same generated file.

    .venv/bin/python bench/parse.py              # 100k records, RIS and MEDLINE, best of 3
    .venv/bin/python bench/parse.py 10000 2      # records, repeats

The files come from bench/import.py's generators (loaded by path: `import` is a keyword) and
are cached under /tmp. Each timing runs in a fresh process (no warm caches, its own heap) and
includes reading the file, decoding it and building every record, not importing the modules:
the floor is `rispy.loads(data.decode("utf-8"))`, ours `list(parse_stream(data))`. Wall and
CPU seconds (process user+sys), best of the repeats, with the cycle collector on (as in a
bare script) and off (as in the import service, which pauses it), and the load average.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _generators():
    spec = importlib.util.spec_from_file_location("bench_import", REPO / "bench" / "import.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _file(n: int, fmt: str) -> Path:
    path = Path(tempfile.gettempdir()) / f"retroduce-parse-bench-{n}.{fmt}"
    if not path.exists():
        gen = _generators()
        records, _ = gen.make_records(n)
        text = gen.to_ris(records) if fmt == "ris" else gen.to_medline(records)
        path.write_text(text, encoding="utf-8")
    return path


def worker(kind: str, path: str, gc_mode: str) -> dict:
    # Modules loaded before the clock starts, as in the web or job process, which imports
    # every importer (the import service uses tabular, hence pandas) when it starts.
    import rispy

    import studies.importers
    from studies.importers import bibtex, endnote, ris, tabular, tagged  # noqa: F401

    if gc_mode == "off":  # as in the import service, which pauses the cycle collector
        gc.disable()
    t0, c0 = time.perf_counter(), time.process_time()
    data = Path(path).read_bytes()
    if kind == "rispy":
        n = len(rispy.loads(data.decode("utf-8")))
    else:
        n = len(list(studies.importers.parse_stream(data)))
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "n": n}


def _run(kind: str, path: Path, gc_mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path), gc_mode],
        check=True, capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


CASES = (("rispy", "ris"), ("ours", "ris"), ("ours", "medline"))


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(*sys.argv[2:5])))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    paths = {fmt: _file(n, fmt) for fmt in ("ris", "medline")}
    print(f"{n} records; RIS {paths['ris'].stat().st_size / 1e6:.1f} MB, "
          f"MEDLINE {paths['medline'].stat().st_size / 1e6:.1f} MB; best of {repeat}")  # fmt: skip
    print(f"{'gc':<4} {'what':<14} {'wall':>7} {'cpu':>7} {'× floor wall':>13} {'× floor cpu':>12}")
    for gc_mode in ("on", "off"):
        runs: dict = {case: [] for case in CASES}
        loads = []
        for _ in range(repeat):  # interleaved, so a busy spell hits every case alike
            for kind, fmt in CASES:
                runs[kind, fmt].append(_run(kind, paths[fmt], gc_mode))
            loads.append(os.getloadavg()[0])
        floor = None
        for (kind, fmt), rs in runs.items():
            wall = min(r["wall"] for r in rs)
            cpu = min(r["cpu"] for r in rs)
            floor = floor or (wall, cpu)
            print(
                f"{gc_mode:<4} {kind + ' ' + fmt:<14} {wall:>6.2f}s {cpu:>6.2f}s "
                f"{wall / floor[0]:>13.2f} {cpu / floor[1]:>12.2f}"
            )
        print(f"     load average (1 min) during these runs: {min(loads):.1f}–{max(loads):.1f}")


if __name__ == "__main__":
    main()
