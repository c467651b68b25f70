"""Hostile inputs against the detectors and parsers: time, peak memory and what each answers.

Generates each input of issue 11's "inputs that stall or exhaust memory" (and others of the
same classes) into a temporary folder, then reads each one in a fresh subprocess exactly as
``catalog load`` does (detect, the format's size limit, parse, validate) and prints one
Markdown row per input: the class, the input, the outcome (the error text ``catalog load``
reports), the seconds the read took inside the subprocess (imports excluded) and the
subprocess's peak RSS (``ru_maxrss`` from ``wait4``, imports included: about 85 MB of it).
A read still running after ``--timeout`` seconds is killed and reported as such. Last, one
``catalog load`` of a folder holding every hostile input beside good files shows that the good
files load.

    python benchmarks/hostile_inputs.py [--code DIR] [--timeout 60] [--only WORD] [--keep DIR]

``--code`` imports the catalog from another checkout (for the figures before a change: a
detached worktree of an older commit); ``--only`` runs the inputs whose class or name
contains the word.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CATALOG_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
if not CORPUS.is_dir():  # a worktree beside the checkout: the shared folder is one up
    CORPUS = ROOT.parent.parent / "shared" / "corpus"
MB = 1024 * 1024

# What ``catalog load`` does with one file, run in the subprocess; prints one JSON line.
RUNNER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from indexer import load
from indexer import formats
from indexer.formats.base import FormatError
formats.formats()  # every format module imported before the clock starts
path = Path(sys.argv[2])
start = time.perf_counter()
try:
    parsed = load.parse_file(path)
    errors = list(parsed.errors)
    fields = 0
    for index, raw in enumerate(parsed.datasets):
        record, problems = load.validate_dataset(raw, index)
        errors.extend(problems)
        fields += len(record["fields"]) if record else 0
    outcome = f"read: {len(parsed.datasets)} datasets, {fields} fields"
    if errors:
        outcome += f"; {len(errors)} errors, first: {errors[0]}"
except LookupError as exc:
    outcome = f"skipped: {exc}"
except FormatError as exc:
    where = f" (line {exc.line})" if exc.line else ""
    outcome = f"cannot read file{where}: {exc}"
except (OSError, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
    outcome = f"cannot read file: {type(exc).__name__}: {exc}"
print(json.dumps({"seconds": time.perf_counter() - start, "outcome": outcome}))
"""


@dataclass
class Hostile:
    """One hostile input: its class, a short description, its file name and how to make it."""

    kind: str
    what: str
    name: str
    make: Callable[[Path], None]


def _text(content: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(content, encoding="utf-8")


def _markdown_page(heading: str) -> str:
    return (
        "# Hostile page\n\n## Dataset\n\n| Name | Value |\n| :--- | :---- |\n"
        "| Id | abcd-1234 |\n| Name | Hostile |\n\n## Columns\n\n```ls\n"
        "| Included | Schema Type | Field Name | Name | Data Type | Render Type |\n"
        "| ======== | =========== | ========== | ==== | ========= | =========== |\n"
        "| Yes | series tag | a | A | text | text |\n```\n\n" + heading
    )


def _sheet_zip(path: Path, rows: Callable[[io.RawIOBase], None], *,
               strings: list[str] | None = None) -> None:
    """An XLSX workbook of one sheet whose XML ``rows`` writes, streamed into the zip."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="xml" ContentType="application/'
            'xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName'
            '="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocum'
            'ent.spreadsheetml.worksheet+xml"/></Types>'))
        book.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
            'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schema'
            's.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
            'workbook.xml"/></Relationships>'))
        book.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        book.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
            'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schema'
            's.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheet'
            's/sheet1.xml"/></Relationships>'))
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}">'
                        "<sheetData>".encode())
            rows(sheet)
            sheet.write(b"</sheetData></worksheet>")


def _header_row() -> bytes:
    return (b'<row r="1"><c r="A1" t="inlineStr"><is><t>Field Name</t></is></c>'
            b'<c r="B1" t="inlineStr"><is><t>Description</t></is></c></row>')


def _million_rows(path: Path) -> None:
    def rows(out: io.RawIOBase) -> None:
        out.write(_header_row())
        for start in range(2, 1_000_002, 10_000):
            out.write(b"".join(
                b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>f%d</t></is></c></row>' % (i, i, i)
                for i in range(start, start + 10_000)))
    _sheet_zip(path, rows)


def _inflating(path: Path) -> None:
    """About 3 MB that inflates to about 870 MB of sheet XML (empty styled cells)."""
    def rows(out: io.RawIOBase) -> None:
        out.write(_header_row())
        row = b'<row>' + b'<c s="0"/>' * 4_350 + b"</row>"
        for _ in range(0, 20_000, 100):
            out.write(row * 100)
    _sheet_zip(path, rows)


def _lying_zip(path: Path) -> None:
    """A workbook whose central directory declares its sheet far smaller than it inflates."""
    _inflating(path)
    data = bytearray(path.read_bytes())
    # Rewrite the declared uncompressed size (zip64 extra field and plain field) of the sheet.
    marker = b"xl/worksheets/sheet1.xml"
    at = data.rfind(marker)  # central directory entry name
    header = data.rfind(b"PK\x01\x02", 0, at)
    data[header + 24: header + 28] = (1000).to_bytes(4, "little")
    extra = header + 46 + len(marker)
    if data[extra: extra + 2] == b"\x01\x00":
        data[extra + 4: extra + 12] = (1000).to_bytes(8, "little")
    path.write_bytes(bytes(data))


def _wide_csv(path: Path) -> None:
    path.write_text("Field Name,Description," + ",".join(f"c{i}" for i in range(200_000))
                    + "\nA,B\n")


def _big_sas(path: Path) -> None:
    with path.open("w") as out:
        out.write("data big;\n  infile 'big.dat' lrecl=99999999;\n  input\n")
        col, i = 1, 0
        while out.tell() < 100 * MB:
            out.write("".join(f"    V{i + k} $ {col + k}-{col + k}\n" for k in range(10_000)))
            i += 10_000
            col += 10_000
        out.write("  ;\nrun;\n")


def _big_copybook(path: Path, size: int = 100 * MB) -> None:
    with path.open("w") as out:
        out.write("       01  BIG-RECORD.\n")
        i = 0
        while out.tell() < size:
            out.write("".join(f"           05  FIELD-{i + k:08d}  PIC X.\n" for k in range(10_000)))
            i += 10_000


def _lines(head: str, line: str, size: int, tail: str = "") -> Callable[[Path], None]:
    """A file of ``head``, then ``line`` (formatted with n, c = n + 1) until ``size``, ``tail``."""
    def make(path: Path) -> None:
        with path.open("w") as out:
            out.write(head)
            n = 0
            while out.tell() < size - len(tail) - 200 * len(line):
                out.write("".join(line.format(n=n + k, c=n + k + 1) for k in range(100)))
                n += 100
            out.write(tail)
    return make


def _ddi_number(path: Path) -> None:
    path.write_text(
        '<?xml version="1.0"?><codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation><titlStmt>'
        "<titl>T</titl></titlStmt></citation></stdyDscr><dataDscr>"
        f'<var name="A"><location StartPos="{"9" * 5000}" width="1"/></var>'
        "</dataDscr></codeBook>")


def _deep_xml(path: Path) -> None:
    path.write_text('<?xml version="1.0"?><codeBook xmlns="ddi:codebook:2_5"><dataDscr>'
                    + "<var>" * 100_000 + "</var>" * 100_000 + "</dataDscr></codeBook>")


HOSTILE: list[Hostile] = [
    Hostile("detector regex", "65 KB of mostly whitespace (\"01\" and 65,000 spaces)",
            "whitespace.txt", _text("01" + " " * 65_000)),
    Hostile("detector regex", "65 KB of blank lines", "blank_lines.txt", _text("\n" * 65_000)),
    Hostile("detector regex", "64 KB of 'a.' (one long name-like word)", "dotted.txt",
            _text("a." * 32_000)),
    Hostile("detector regex", "64 KB of '01 A' then tabs", "tabs.cpy",
            _text("01 A" + "\t" * 64_000)),
    Hostile("parser regex", "SPSS DATA LIST 'V1 TO V1…1X' with a 60,000-character name",
            "to_range.sps", _text("DATA LIST FIXED /V1 TO V" + "1" * 60_000 + "X 1-10.\n")),
    Hostile("parser regex", "Stata label program: 12,000 unclosed compound quotes `\"a\"",
            "pieces.do", _text('label variable x "X"\nlabel define x ' + '1 `"a" ' * 12_000
                               + "\n")),
    Hostile("parser regex", "Markdown page whose heading holds 60,000 spaces",
            "heading.md", _text(_markdown_page("## a" + " " * 60_000 + "b\n"))),
    Hostile("parser regex", "Markdown page whose heading is 60,000 characters",
            "heading_words.md", _text(_markdown_page("## " + "ab " * 20_000 + "\n"))),
    Hostile("workbook", "8 MB XLSX of 1,000,000 rows", "million_rows.xlsx", _million_rows),
    Hostile("workbook", "XLSX of ~3 MB inflating to ~870 MB of sheet XML", "inflating.xlsx",
            _inflating),
    Hostile("workbook", "the same, its sheet's declared size rewritten to 1,000 bytes",
            "lying_sizes.xlsx", _lying_zip),
    Hostile("size and field limits", "100 MB SAS input program (5.8M variables)", "big.sas",
            _big_sas),
    Hostile("size and field limits", "100 MB COBOL copybook (2.4M fields)", "big.cpy",
            _big_copybook),
    Hostile("size and field limits", "4 MB COBOL copybook (96,000 fields, under the size limit)",
            "many_fields.cpy", lambda path: _big_copybook(path, 4 * MB)),
    Hostile("size and field limits", "CSV header row of 200,000 columns", "wide.csv", _wide_csv),
    Hostile("at the size limit", "8 MB COBOL copybook (246,000 fields)", "limit.cpy",
            _lines("       01  R.\n", "           05  F-{n:08d}  PIC X.\n", 8 * MB)),
    Hostile("at the size limit", "8 MB SAS INPUT of 310,000 variables", "limit.sas",
            _lines("data x;\n  infile 'x.dat';\n  input\n", "    V{n} $ {c}-{c}\n", 8 * MB,
                   "  ;\nrun;\n")),
    Hostile("at the size limit", "8 MB SPSS DATA LIST of 360,000 variables", "limit.sps",
            _lines("DATA LIST FIXED /\n", "  V{n} {c}-{c}\n", 8 * MB, ".\n")),
    Hostile("at the size limit", "8 MB Stata dictionary of 220,000 entries", "limit.dct",
            _lines("infile dictionary {\n", '  _column({c}) str1 v{n} %1s "V"\n', 8 * MB, "}\n")),
    Hostile("at the size limit", "8 MB Stata label program of 210,000 variables", "limit.do",
            _lines("", 'label variable v{n} "Variable {n}"\n', 8 * MB)),
    Hostile("at the size limit", "16 MB layout table of 420,000 rows", "limit.csv",
            _lines("Field Name,Start,Length,Description\n", "F{n},{c},1,Field {n}\n", 16 * MB)),
    Hostile("at the size limit", "8 MB HTML dictionary page of 183,000 rows", "limit.html",
            _lines("<html><body><table><tr><th>Field Name</th><th>Description</th></tr>\n",
                   "<tr><td>F{n}</td><td>Field {n}</td></tr>\n", 8 * MB,
                   "</table></body></html>\n")),
    Hostile("at the size limit", "4 MB Markdown page of 107,000 columns", "limit.md",
            _lines(_markdown_page(""), "| Yes | t | f{n} | F | text | text |\n", 4 * MB)),
    Hostile("oversized number", "COBOL PIC X(<5,000 digits>)", "number.cpy",
            _text("       01  R.\n           05  A  PIC X(" + "9" * 5000 + ").\n")),
    Hostile("oversized number", "SAS INPUT @<5,000 digits>", "number.sas",
            _text("data x;\n  infile 'x.dat';\n  input @" + "9" * 5000 + " A $5.;\nrun;\n")),
    Hostile("oversized number", "SPSS DATA LIST column range of 5,000 digits", "number.sps",
            _text("DATA LIST FIXED /A 1-" + "9" * 5000 + ".\n")),
    Hostile("oversized number", "Stata dictionary _column(<5,000 digits>)", "number.dct",
            _text("infile dictionary {\n  _column(" + "9" * 5000 + ") str5 a %5s \"A\"\n}\n")),
    Hostile("oversized number", "layout table START column of 5,000 digits", "number.csv",
            _text("Field Name,Start,Length,Description\nA," + "9" * 5000 + ",1,x\n")),
    Hostile("oversized number", "DDI StartPos of 5,000 digits", "number.xml", _ddi_number),
    Hostile("nesting", "JSON nested 100,000 deep", "deep.json", _text("[" * 100_000)),
    Hostile("nesting", "DDI XML nested 100,000 deep", "deep.xml", _deep_xml),
]


def good_files(folder: Path) -> list[Path]:
    """A few real files of the corpus, copied beside the hostile ones."""
    picks = [
        "record_layouts/sas/hcup/KY_SID_2008_CORE.sas",
        "ddi/ipums_cps_00097.xml",
        "dcat_us/cftc_data.json",
        "socrata/chicago_7ray-xvet_buildings_time_to_issue_easy_permits.view.json",
    ]
    copied = []
    for pick in picks:
        source = CORPUS / pick
        if source.exists():
            target = folder / source.name
            shutil.copyfile(source, target)
            copied.append(target)
    return copied


def measure(command: list[str], timeout: float, env: dict[str, str] | None = None
            ) -> tuple[float, int, str, int | None]:
    """(wall seconds, peak RSS in MB, stdout, exit status or None when killed at timeout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    chunks: list[bytes] = []
    status: int | None = None
    while True:
        with_output = proc.stdout.read()
        if with_output:
            chunks.append(with_output)
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(code)
            break
        if time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, code, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    rest = proc.stdout.read()
    if rest:
        chunks.append(rest)
    proc.returncode = 0 if status is None else status  # already reaped by wait4
    return (time.perf_counter() - start, usage.ru_maxrss // 1024,
            b"".join(chunks).decode("utf-8", "replace"), status)


def run_one(code: Path, path: Path, timeout: float) -> tuple[str, str, int]:
    """(seconds, outcome, peak RSS MB) of reading one file in a subprocess."""
    wall, peak, output, status = measure([sys.executable, "-c", RUNNER, str(code), str(path)],
                                         timeout)
    if status is None:
        return f"> {timeout:.0f} (killed)", f"still running after {timeout:.0f} s", peak
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        return f"{wall:.1f} (wall)", f"crashed (exit {status}): {output.strip()[-300:]}", peak
    result = json.loads(lines[-1])
    return f"{result['seconds']:.2f}", result["outcome"], peak


def clip(text: str, limit: int = 230) -> str:
    """One table cell: pipes escaped, cut to ``limit`` characters."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main() -> None:
    """Generate the inputs, read each in a subprocess, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to import")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--only", default="")
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    parser.add_argument("--no-load", action="store_true", help="skip the catalog load row")
    args = parser.parse_args()
    code = args.code.resolve()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [h for h in HOSTILE if args.only.lower() in f"{h.kind} {h.what} {h.name}".lower()]
    print(f"code: {code} (git {_commit(code)}); timeout {args.timeout:.0f} s\n")
    print("| class | input | size | outcome | seconds | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    try:
        for hostile in chosen:
            path = folder / hostile.name
            if not path.exists():
                hostile.make(path)
            size = path.stat().st_size
            seconds, outcome, peak = run_one(code, path, args.timeout)
            print(f"| {hostile.kind} | {clip(hostile.what, 90)} | {_size(size)} | "
                  f"{clip(f'{hostile.name}: {outcome}')} | {seconds} | {peak} |", flush=True)
        if not args.no_load and not args.only:
            print()
            print(_load_row(code, folder, args.timeout * 4))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _load_row(code: Path, folder: Path, timeout: float) -> str:
    """``catalog load`` of the hostile folder with good files beside them: the summary."""
    good = good_files(folder)
    if not good:
        return f"catalog load not run: no corpus at {CORPUS} (set CATALOG_CORPUS_DIR)"
    with tempfile.TemporaryDirectory(prefix="hostile-catalog-") as data:
        env = {**os.environ, "CATALOG_DATA_DIR": data, "PYTHONPATH": str(code),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        for key in ("CATALOG_DATABASE_URL", "CATALOG_ELASTICSEARCH_URL", "CATALOG_REDIS_URL"):
            env.pop(key, None)
        command = [sys.executable, "-c", "from web.cli import main; main()", "load",
                   str(folder), "--no-index"]
        wall, peak, output, status = measure(command, timeout, env)
    tail = [line for line in output.splitlines()
            if line.startswith(("files:", "datasets:", "errors:", "took"))]
    verdict = "killed at timeout" if status is None else f"exit {status}"
    return (f"catalog load of {len(HOSTILE)} hostile + {len(good)} good files "
            f"({', '.join(p.name for p in good)}), --no-index: {wall:.1f} s wall, peak RSS "
            f"{peak} MB, "
            f"{verdict}\n    " + "\n    ".join(tail))


def _size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size / 1024:.0f} KB"


def _commit(code: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()
