"""Spreadsheet dictionaries and web pages whose data dictionary is an HTML table, by URL or folder.

``harvest(url)`` reads documents and parses each with the format modules, exactly as when the
file is loaded from disk (:func:`indexer.formats.detect`, then the module's ``parse``):

* a single URL of a CSV / TSV / XLSX data dictionary or of a page with dictionary tables (a DOL
  developer-portal page, any ``.html``), fetched with the Fetcher's guards (timeouts, retries,
  size limit);
* ``options["urls"]``: a list of such URLs, read instead of ``url`` (relative ones are resolved
  against ``url``);
* ``options["index"]`` true: ``url`` is an index page (a folder listing, say) whose links to
  documents with a dictionary suffix (``.csv``, ``.tsv``, ``.xlsx``, ``.html``, ``.md`` ...) are
  read; ``options["link_pattern"]`` (a regular expression searched in the absolute link) picks
  other links instead;
* a local folder or file, as a path or a ``file://`` URL: every file under it, sorted, hidden
  files and catalog notes skipped (:func:`indexer.load.iter_files`), parsed in place.

A fetched document is written to a temporary file named after the URL's last path segment
(percent-decoding undone), so that the parser, which names a dataset after its file, gives the
identifier it gives when the same file is loaded from disk: ``.../data-dictionary.csv`` is
dataset ``data-dictionary`` on every run. A segment keeps any suffix a format module declares
(``.csv``, ``.cpy``, ``.copy``, ``.sps`` ...); one without gets a suffix from the
``Content-Type`` by the media types the modules declare (``text/csv`` -> ``.csv``, the XLSX
type -> ``.xlsx``, ``text/html`` -> ``.html``), else from the body (a zip archive is read as
XLSX, ``<`` as HTML); the segment itself stays the identifier (``/export/lfs`` served as CSV is
dataset ``lfs``).

Every dataset of a document is one item, ``total`` being the number of documents; each item
from a fetched document has ``extra["document_url"]``. A document that cannot be fetched or
parsed is an error item naming its URL (the run goes on), with the identifier its dataset has
when the document is a CSV / TSV / TXT table or an HTML / Markdown page (one dataset, named
after the file); XLSX workbooks (one dataset per sheet) and JSON documents name their datasets
only once read, so their error items carry none. Two documents that give the same identifier:
the first is kept, the second is an error item. The run fails (:class:`FetchError`) when the
index page cannot be read or links to no document, when the folder does not exist or is empty,
or when not one document could be read (for a single document, its own error).

Options: ``urls``, ``index``, ``link_pattern``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from indexer import formats
from indexer.formats import dictionary_table, html_tables
from indexer.formats.base import FormatError, ParsedFile
from indexer.harvesters import HarvestItem, repeated_item
from indexer.http import Fetcher, FetchError

NAME = "web"

ACCEPT = ("text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, "
          "text/html;q=0.9, */*;q=0.8")
# Suffixes a URL keeps as they are (every suffix a format module declares); any other
# (``.php``, ``.aspx``, none) gets one from the Content-Type, by the modules' media types.
KNOWN_SUFFIXES = formats.suffixes()
CONTENT_TYPES = formats.media_types()
# Documents whose one dataset is named after the file: text tables and pages.
NAMED_AFTER_FILE = frozenset((*dictionary_table.TEXT_SUFFIXES, *html_tables.SUFFIXES))
# Links an index page is followed to, unless ``link_pattern`` says otherwise: dictionary tables,
# workbooks and pages (not ``.txt``/``.dat``, of which folders of data files are full).
LINK_SUFFIXES = frozenset({".csv", ".tsv", ".xlsx", ".xlsm", ".html", ".htm", ".md"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_MAX_NAME = 150


# ----------------------------------------------------------------------- shared helpers


def document_name(url: str, content_type: str = "", body: bytes = b"") -> str:
    """The file name a fetched document is parsed under: the URL's last segment, with a suffix.

    The suffix comes from the segment when it is a known one, else from ``content_type``, else
    from the first bytes of ``body``; the segment stays the stem (the dataset identifier).
    """
    segment = safe_segment(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1], "document")
    if Path(segment).suffix.lower() in KNOWN_SUFFIXES:
        return segment
    kind = content_type.split(";", 1)[0].strip().lower()
    suffix = CONTENT_TYPES.get(kind)
    if suffix is None and kind.endswith("+json"):
        suffix = ".json"
    if suffix is None:
        suffix = _sniffed_suffix(body)
    return segment + suffix


def safe_segment(segment: str, default: str) -> str:
    """A URL path segment as a file or folder name: percent-decoded, no separators."""
    name = re.sub(r"[/\\\x00]", "_", unquote(segment)).strip()[:_MAX_NAME]
    return default if name in ("", ".", "..") else name


def _sniffed_suffix(body: bytes) -> str:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return ".xlsx"
    if head.startswith(b"<"):
        return ".html"
    if head.startswith((b"{", b"[")):
        return ".json"
    return ".csv"


def expected_identifier(name: str) -> str | None:
    """The identifier the parser will give a document named ``name``, when known beforehand.

    Tables and pages give one dataset named after the file (its stem); workbooks (one dataset
    per sheet) and JSON documents name their datasets in their content.
    """
    path = Path(name)
    if path.suffix.lower() in NAMED_AFTER_FILE and path.stem:
        return path.stem
    return None


def parse_bytes(data: bytes, name: str, *, folder: str | None = None,
                module: ModuleType | None = None) -> ParsedFile:
    """Parse a fetched document as the file ``[folder/]name`` (in a temporary folder).

    ``module`` is the format module to use; without one the format is detected as for a file
    on disk. FormatError when no format recognises the document or it cannot be read.
    """
    with tempfile.TemporaryDirectory(prefix="catalog-harvest-") as tmp:
        base = Path(tmp) / folder if folder else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        path = base / name
        path.write_bytes(data)
        return parse_file(path, module)


def parse_file(path: Path, module: ModuleType | None = None) -> ParsedFile:
    """Parse one file with ``module``, or with the format detected for it."""
    if module is None:
        module = formats.detect(path)
    if module is None:
        raise formats.explain_unrecognised(path) or FormatError(
            "not a recognised metadata format (expected a data dictionary table: CSV, TSV or "
            "XLSX, or a page with an HTML dictionary table)")
    return formats.read(module, path)


def fetch_document(fetcher: Fetcher, url: str) -> tuple[bytes, str]:
    """GET a document of any type under the Fetcher's guards: (body, Content-Type).

    The same request as :meth:`Fetcher.get_bytes` (size limit, retries, HTTP errors), keeping
    the response's ``Content-Type`` and asking for documents rather than JSON.
    """
    response = fetcher.session.request("GET", url, headers={"Accept": ACCEPT}, expect_json=False)
    return response.content, response.headers.get("Content-Type", "")


def problem(url: str, exc: Exception) -> str:
    """An exception's message without a repeat of ``url`` (FetchError messages start with it)."""
    if isinstance(exc, FetchError) and exc.url == url:
        return exc.problem
    if isinstance(exc, (FetchError, FormatError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------- harvest


def harvest(url: str, *, fetcher: Fetcher, options: dict[str, Any] | None = None
            ) -> Iterator[HarvestItem]:
    """Yield every dataset of every document (or a per-document error item)."""
    options = options or {}
    if not url and not options.get("urls"):
        raise FetchError(url, "no URL, folder or 'urls' option given")
    if options.get("urls"):
        listed = options["urls"]
        listed = [listed] if isinstance(listed, str) else listed
        urls = [urljoin(url, str(u)) if url else str(u) for u in listed]
        yield from _read_urls(url, urls, fetcher)
    elif _is_local(url):
        yield from _read_folder(url, _local_path(url), fetcher.max_bytes)
    elif options.get("index"):
        yield from _read_urls(url, _index_links(url, fetcher, options.get("link_pattern")),
                              fetcher)
    else:
        yield from _read_urls(url, [url], fetcher)


def _is_local(url: str) -> bool:
    return url.startswith("file:") or not _SCHEME.match(url)


def _local_path(url: str) -> Path:
    if url.startswith("file:"):
        return Path(unquote(urlsplit(url).path))
    return Path(url)


def _read_urls(source: str, urls: list[str], fetcher: Fetcher) -> Iterator[HarvestItem]:
    """Fetch and parse each document; FetchError when not one of them could be read."""
    urls = list(dict.fromkeys(urls))
    total = len(urls)
    seen: set[str] = set()
    failures: list[str] = []
    for url in urls:
        name = document_name(url)
        try:
            body, content_type = fetch_document(fetcher, url)
            name = document_name(url, content_type, body)
            parsed = parse_bytes(body, name)
        except Exception as exc:  # any fetch or parser failure is this document's error
            if total == 1:
                if isinstance(exc, FetchError):
                    raise
                raise FetchError(url, f"cannot read the document: {problem(url, exc)}") from exc
            failures.append(f"{url}: {problem(url, exc)}")
            yield HarvestItem(error=f"document {url}: {problem(url, exc)}",
                              identifier=expected_identifier(name), total=total)
            continue
        yield from _items(url, parsed, seen, total, document_url=url)
    if failures and len(failures) == total:
        raise FetchError(source, f"none of the {total} documents could be read; "
                                 f"first: {failures[0]}")


def _items(what: str, parsed: ParsedFile, seen: set[str], total: int, *,
           document_url: str | None) -> Iterator[HarvestItem]:
    """The items of one parsed document: its datasets, then the errors it reported."""
    if not parsed.datasets and not parsed.errors:
        yield HarvestItem(error=f"document {what}: no dataset in it", total=total)
    for record in parsed.datasets:
        identifier = str(record.get("identifier") or "")
        if (repeated := repeated_item(f"document {what}", identifier, seen, total)) is not None:
            yield repeated
            continue
        if document_url:
            record.setdefault("extra", {})["document_url"] = document_url
        yield HarvestItem(dataset=record, identifier=identifier, total=total)
    for message in parsed.errors:
        yield HarvestItem(error=f"document {what}: {message}", total=total)


def _read_folder(url: str, root: Path, max_bytes: int) -> Iterator[HarvestItem]:
    """Every file under a local folder (or one file), parsed in place."""
    from indexer.load import iter_files  # the loader's own walk: sorted, hidden files skipped

    try:
        files = list(iter_files([root]))
    except (FileNotFoundError, OSError) as exc:
        raise FetchError(url, f"cannot read the folder: {exc}") from exc
    if not files:
        raise FetchError(url, "no files in the folder")
    total = len(files)
    seen: set[str] = set()
    failures = 0
    for path in files:
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise FormatError(f"file larger than {max_bytes} bytes ({size} bytes)")
            parsed = parse_file(path)
        except Exception as exc:  # any parser failure is this file's error
            failures += 1
            if total == 1:
                raise FetchError(url, f"cannot read the file: {problem(url, exc)}") from exc
            yield HarvestItem(error=f"document {path}: {problem(str(path), exc)}",
                              identifier=expected_identifier(path.name), total=total)
            continue
        yield from _items(str(path), parsed, seen, total, document_url=None)
    if failures == total:
        raise FetchError(url, f"none of the {total} files could be read")


def _index_links(url: str, fetcher: Fetcher, pattern: str | None) -> list[str]:
    """The document links of an index page; FetchError when it has none or cannot be read."""
    from lxml import etree
    from lxml import html as lxml_html

    body, _ = fetch_document(fetcher, url)
    try:
        root = lxml_html.document_fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise FetchError(url, f"the index page is not HTML: {exc}") from exc
    wanted = re.compile(pattern) if pattern else None
    links: list[str] = []
    for href in root.xpath("//a/@href"):
        link = urldefrag(urljoin(url, str(href).strip()))[0]
        if urlsplit(link).scheme not in ("http", "https") or link.rstrip("/") == url.rstrip("/"):
            continue
        if wanted.search(link) if wanted else \
                Path(urlsplit(link).path).suffix.lower() in LINK_SUFFIXES:
            links.append(link)
    if not links:
        which = f"matching {pattern!r}" if pattern else "to dictionaries (" + ", ".join(
            sorted(LINK_SUFFIXES)) + ")"
        raise FetchError(url, f"the index page has no links {which}")
    return list(dict.fromkeys(links))
