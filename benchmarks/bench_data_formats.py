"""The memory table of bench_data.py (issue 11): peak memory / file size per format, on a valid
file and on the failure paths. Every file is written in chunks; none is held in memory here.
"""

from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

MB = 1 << 20
RATIO_TARGET = 4.0  # every format, text too (its token ids are uint16: 2 bytes per character)
TS_HEADER = "@problemName bench\n@univariate true\n@classLabel true a b\n@data\n"


def _repeat_lines(path: str, head: str, lines: list, megabytes: float, tail: str = "") -> None:
    target = int(megabytes * MB)
    block = "".join(lines)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(head)
        while f.tell() < target:
            f.write(block)
        f.write(tail)


def _random_lines(rng, n_lines: int, n_values: int, suffix) -> list:
    return [",".join(f"{v:.6f}" for v in rng.normal(size=n_values)) + suffix(i) + "\n" for i in range(n_lines)]


OVERFLOW = "1e39"  # finite in float64, inf in float32: refused, found only at the file's end


def make_ts(path: str, megabytes: float, rng, tail: str = "") -> None:
    """Valid univariate .ts: cases of 1000 values, classes a/b (then ``tail``)."""
    _repeat_lines(path, TS_HEADER, _random_lines(rng, 40, 1000, lambda i: ":b" if i % 2 else ":a"), megabytes,
                  tail)


def make_ucr(path: str, megabytes: float, rng, tail: str = "") -> None:
    """UCR .tsv (a *_TRAIN.tsv name, the label first): rows of 1000 values, labels 1/2."""
    lines = ["\t".join([str(1 + i % 2)] + [f"{v:.6f}" for v in rng.normal(size=1000)]) + "\n" for i in range(40)]
    _repeat_lines(path, "", lines, megabytes, tail)


def make_ts_huge_case(path: str, megabytes: float) -> None:
    """Two good cases, then one case of ``megabytes`` (far over max_length)."""
    piece = ",".join(["0.123456"] * 100_000) + ","
    with open(path, "w", encoding="ascii") as f:
        f.write(TS_HEADER + "1,2,3:a\n3,2,1:b\n")
        while f.tell() < megabytes * MB:
            f.write(piece)
        f.write("1:a\n")


def make_huge_line(path: str, megabytes: float, head: str, good: str, end: str = "\n") -> None:
    """Ten good rows, then a single line of ``megabytes`` that is not a number."""
    with open(path, "w", encoding="ascii") as f:
        f.write(head + good * 10)
        piece = "x" * MB
        while f.tell() < megabytes * MB:
            f.write(piece)
        f.write(end)


def make_npy(path: str, megabytes: float, rng, overflow: bool = False) -> None:
    """float64 (N, 4096, 8) written with a header and chunks (np.lib.format + tofile)."""
    n = max(1, int(megabytes * MB // (4096 * 8 * 8)))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (n, 4096, 8)})
        for i in range(n):
            block = rng.normal(size=(4096, 8))
            if overflow and i == n - 1:
                block[-1, -1] = 1e39            # the last value: found only after reading everything
            block.tofile(f)


def make_npz(path: str, megabytes: float, rng) -> None:
    """Uncompressed .npz with X (N, 4096, 8) float64 and labels y."""
    n = max(2, int(megabytes * MB // (4096 * 8 * 8)))
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("X.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False,
                                                          "shape": (n, 4096, 8)})
            for _ in range(n):
                member.write(rng.normal(size=(4096, 8)).tobytes())
        with zf.open("y.npy", "w") as member:
            np.lib.format.write_array(member, np.arange(n) % 2)


def make_zip_bomb(path: str, member_mb: float) -> None:
    """A .npz whose X.npy decompresses to ``member_mb`` MB of zeros (a few MB on disk)."""
    n = int(member_mb * MB // 8)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("X.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False,
                                                          "shape": (n // 100_000, 100_000, 1)})
            chunk = bytes(8 * MB)
            for _ in range(int(member_mb // 8)):
                member.write(chunk)


def make_text(path: str, megabytes: float, rng, tail: bytes = b"") -> None:
    words = ["river", "stone", "light", "under", "the", "a", "quietly", "north", "winter", "and", "of"]
    _repeat_lines(path, "", [" ".join(rng.choice(words, 20_000)) + ".\n" for _ in range(8)], megabytes)
    with open(path, "ab") as f:
        f.write(tail)


def make_csv(path: str, megabytes: float, rng, tail: str = "") -> None:
    """24 columns, so 200 MB stays under max_length (1,000,000 rows)."""
    header = ",".join(f"c{j}" for j in range(24)) + "\n"
    _repeat_lines(path, header, _random_lines(rng, 500, 24, lambda i: ""), megabytes, tail)


def _cases(folder: str, mb: float, rng):
    """(name, path, warm file, load options, limit the peak is bounded by or None) per case."""
    j = lambda name: os.path.join(folder, name)  # noqa: E731
    warm = {"ts": j("warm.ts"), "npy": j("warm.npy"), "npz": j("warm.npz"), "txt": j("warm.txt"),
            "csv": j("warm.csv"), "ucr": j("warm_TRAIN.tsv")}
    with open(warm["ucr"], "w") as f:
        f.write("1\t0.5\t1.5\t2.5\n2\t2.5\t1.5\t0.5\n")
    with open(warm["ts"], "w") as f:
        f.write(TS_HEADER + "1,2:a\n2,1:b\n")
    np.save(warm["npy"], np.zeros((2, 3, 1)))
    np.savez(warm["npz"], X=np.zeros((2, 3, 1)), y=np.array([0, 1]))
    with open(warm["txt"], "w") as f:
        f.write("hello there\n")
    with open(warm["csv"], "w") as f:
        f.write("a,b\n1,2\n3,4\n")
    yield "ts valid", j("valid.ts"), lambda p: make_ts(p, mb, rng), warm["ts"], {}, None
    yield "ts 1e39 in the last case", j("overflow.ts"), \
        lambda p: make_ts(p, mb, rng, ",".join([OVERFLOW] + ["0.5"] * 999) + ":a\n"), warm["ts"], {}, None
    yield "ts one huge case", j("huge_case.ts"), lambda p: make_ts_huge_case(p, mb), warm["ts"], {}, None
    yield "ts huge line after good cases", j("huge_line.ts"), \
        lambda p: make_huge_line(p, mb, TS_HEADER, "1,2,3:a\n", ":a\n"), warm["ts"], {}, None
    yield "npy float64 valid", j("valid.npy"), lambda p: make_npy(p, mb, rng), warm["npy"], {}, None
    yield "npy float64 1e39 at the end", j("overflow.npy"), lambda p: make_npy(p, mb, rng, True), warm["npy"], {}, None
    yield "npz valid", j("valid.npz"), lambda p: make_npz(p, mb, rng), warm["npz"], {}, None
    yield "npz bomb, member 2 GB > limit", j("bomb.npz"), lambda p: make_zip_bomb(p, 2048), warm["npz"], {}, None
    yield "npz bomb, member 800 MB < limit", j("bomb_ok.npz"), lambda p: make_zip_bomb(p, 800), warm["npz"], {}, \
        800 * MB
    yield "ucr valid", j("valid_TRAIN.tsv"), lambda p: make_ucr(p, mb, rng), warm["ucr"], {}, None
    yield "ucr 1e39 in the last row", j("overflow_TRAIN.tsv"), \
        lambda p: make_ucr(p, mb, rng, "\t".join(["1", OVERFLOW] + ["0.5"] * 999) + "\n"), warm["ucr"], {}, None
    yield "text valid", j("valid.txt"), lambda p: make_text(p, mb, rng), warm["txt"], {}, None
    yield "text valid, one emoji at the end", j("emoji.txt"), \
        lambda p: make_text(p, mb, rng, "\U0001F600\n".encode("utf-8")), warm["txt"], {}, None
    yield "text, not UTF-8 at the end (cp1252)", j("late_cp1252.txt"), \
        lambda p: make_text(p, mb, rng, "caf\u00e9 \u2013 na\u00efve\n".encode("cp1252")), warm["txt"], {}, None
    yield "csv valid (data-tables)", j("valid.csv"), lambda p: make_csv(p, mb, rng), warm["csv"], {}, None
    yield "csv 1e39 in the last row (data-tables)", j("overflow.csv"), \
        lambda p: make_csv(p, mb, rng, ",".join([OVERFLOW] + ["0.5"] * 23) + "\n"), warm["csv"], {}, None
    yield "csv huge line after good rows (data-tables)", j("huge_line.csv"), \
        lambda p: make_huge_line(p, mb, "a,b\n", "1,2\n"), warm["csv"], {}, None


def memory_table(mb: float, child_load) -> list:
    """Generate each file, load it in a fresh process, delete it. One row per case."""
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_data_formats_") as folder:
        for name, path, make, warm, options, bound in _cases(folder, mb, rng):
            make(path)
            size = os.path.getsize(path)
            result = child_load("load_sequences", path, warm, **options) or {"growth": None, "outcome": "n/a"}
            os.remove(path)
            growth = result["growth"]
            ratio = None if growth is None else growth / size
            limit_ok = bound is None or growth is None or growth <= 1.2 * bound
            rows.append({"case": name, "file_bytes": size, "peak_growth_bytes": growth, "ratio": ratio,
                         "bounded_by": bound, "outcome": result["outcome"][:110],
                         "pass": ratio is None or (ratio <= RATIO_TARGET if bound is None else limit_ok)})
    return rows


def print_memory_table(rows: list) -> None:
    print(f"\n{'case':<46} {'file':>9} {'peak':>9} {'peak/file':>9}  outcome")
    for r in rows:
        peak = "n/a" if r["peak_growth_bytes"] is None else f"{r['peak_growth_bytes'] / MB:.0f} MB"
        ratio = "n/a" if r["ratio"] is None else (f"{r['ratio']:.2f}x" if r["bounded_by"] is None
                                                  else f"<= {r['bounded_by'] / MB:.0f} MB")
        mark = "" if r["pass"] else "  FAIL"
        print(f"{r['case']:<46} {r['file_bytes'] / MB:>6.1f} MB {peak:>9} {ratio:>9}  {r['outcome'][:70]}{mark}")
