"""Read planners' files safely: CSV, XLSX, GeoJSON, GeoPackage and zipped shapefiles.

This is the lowest layer of :mod:`planning.inputs`: bytes in, a :class:`pandas.DataFrame` out, with
every problem reported as a :class:`Problem` (file, row, column, what to do) inside one
:class:`InputFileError`. Nothing here interprets the columns.

Safety
------
* A size limit (:data:`DEFAULT_MAX_BYTES`, 50 MB) applies to every file before it is parsed.
* Zip archives (zipped shapefiles and ``.xlsx``, which is a zip too) are checked before anything
  is extracted: too many members, absolute or ``..`` member names, symbolic links, encrypted
  members, and size bombs (total uncompressed size, and the compression ratio of large members).
  Only the members needed are extracted, under fixed flat names, into a temporary folder.
* Nothing is evaluated: CSV cells are text; ``.xlsx`` is read with openpyxl as stored values
  (a formula cell gives the result Excel saved with the file, or a problem if there is none);
  XML is parsed through ``defusedxml`` when installed (a declared dependency).
* Old binary ``.xls`` and macro-only formats are refused with a message asking for ``.xlsx`` or
  CSV.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import lzma
import os
import re
import stat
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

import pandas as pd

from planning.errors import DataError

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Largest file accepted (bytes); matches ``server.maxUploadSize`` in ``.streamlit/config.toml``."""
DEFAULT_MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
"""Largest total uncompressed size of a zip archive (bytes)."""
MAX_ZIP_MEMBERS = 200
"""Most members a zip archive may have."""
MAX_ZIP_RATIO = 200.0
"""Largest compression ratio (uncompressed / compressed) of a member larger than 1 MB."""
MAX_PROBLEMS_SHOWN = 20
"""How many problems an error message lists before "... and N more"."""

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
FileFormat = Literal["csv", "xlsx", "geojson", "gpkg", "zip"]

_SPATIAL_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
_TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ""}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_SUPPORTED = "CSV, XLSX, GeoJSON, GeoPackage (.gpkg) or a zipped shapefile (.zip)"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file
        File name as the user knows it.
    row
        Row number as shown by Excel (the header is row 1), or the 1-based feature number of a
        GeoJSON/GeoPackage/shapefile; ``None`` for a problem with the whole file or a column.
    column
        Column header the problem is in, or ``None``.
    message
        What is wrong and what to do.
    row_label
        ``"row"`` for tables, ``"feature"`` for spatial files.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    row_label: str = "row"

    def __str__(self) -> str:
        """Return ``file, row N, column 'C': message``."""
        where = [self.file]
        if self.row is not None:
            where.append(f"{self.row_label} {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class InputFileError(DataError):
    """A planner's file cannot be used; lists every problem found in it at once.

    Parameters
    ----------
    file
        File name as the user knows it.
    problems
        Every problem found (at least one).

    Attributes
    ----------
    problems
        The problems, for the app to show as a table (file, row, column, message).
    file
        The file name.
    """

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(format_problems(file, self.problems))


def format_problems(file: str, problems: tuple[Problem, ...] | list[Problem]) -> str:
    """Return the error message listing ``problems`` (at most :data:`MAX_PROBLEMS_SHOWN`)."""
    n = len(problems)
    if n == 1:
        return str(problems[0])
    head = f"{file}: {n} problems; fix them all, then load the file again:"
    lines = [f"  - {p}" for p in problems[:MAX_PROBLEMS_SHOWN]]
    if n > MAX_PROBLEMS_SHOWN:
        lines.append(f"  ... and {n - MAX_PROBLEMS_SHOWN} more")
    return "\n".join([head, *lines])


def fail(file: str, message: str, *, column: str | None = None) -> InputFileError:
    """Return an :class:`InputFileError` with one whole-file problem (for ``raise fail(...)``)."""
    return InputFileError(file, [Problem(file, None, column, message)])


# ------------------------------------------------------------------------------------ reading
def read_table(
    source: Source,
    *,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> pd.DataFrame:
    """Read a planner's table or spatial file into a DataFrame, safely.

    Parameters
    ----------
    source
        A path, the file's bytes (an app upload), or a binary file object (its ``name`` is used
        when ``filename`` is not given).
    filename
        Name shown in messages and used to recognise the format (``.csv``, ``.xlsx``,
        ``.geojson``/``.json``, ``.gpkg``, ``.zip``); the content is checked too.
    max_bytes
        Largest file accepted, in bytes (default 50 MB).
    max_unzipped_bytes
        Largest total uncompressed size of a zip archive or ``.xlsx``, in bytes.

    Returns
    -------
    frame
        Tables (CSV, XLSX): one column per header, cells as read (CSV: text with surrounding
        spaces removed, ``""`` for empty; XLSX: numbers, text, dates or ``None``), index
        ``row`` = the row number Excel shows (header = row 1, or the row below a title row).
        Fully empty rows are dropped. Spatial files: a GeoDataFrame in the file's own CRS
        (``frame.crs``), index ``row`` = 1-based feature number. ``frame.attrs`` holds
        ``file``, ``format``, ``row_label`` (``"row"``/``"feature"``) and, for CSV,
        ``encoding``.

    Raises
    ------
    InputFileError
        (a :class:`~planning.errors.DataError`) for a missing, empty, too large, unsafe,
        undecodable or malformed file, with ``err.problems`` listing every problem found.
    """
    data, name = _read_source(source, filename, max_bytes=max_bytes)
    return _read_bytes(data, name, max_unzipped_bytes=max_unzipped_bytes, depth=0)


def _read_source(source: Source, filename: str | None, *, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        name = filename or "upload"
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = filename or path.name or str(path)
        try:
            size = path.stat().st_size
        except OSError:
            msg = f"file not found at {str(path)!r}: check the path and the file name."
            raise fail(name, msg) from None
        if not path.is_file():
            msg = f"{str(path)!r} is a folder, not a file: give the path of the file itself."
            raise fail(name, msg) from None
        if size > max_bytes:
            raise fail(name, _too_large(size, max_bytes))
        try:
            data = path.read_bytes()
        except OSError as err:
            msg = f"cannot read the file ({err.strerror}); check that it is not open elsewhere."
            raise fail(name, msg) from None
    elif hasattr(source, "read"):
        name = filename or Path(str(getattr(source, "name", "") or "upload")).name
        raw: Any = source.read(max_bytes + 1)
        if not isinstance(raw, bytes | bytearray):
            msg = "the upload must be opened in binary mode ('rb'), not as text."
            raise fail(name, msg)
        data = bytes(raw)
    else:
        msg = (
            f"cannot read a {type(source).__name__}: give a file path, the file's bytes or "
            "an uploaded file."
        )
        raise fail(filename or "input", msg)
    if len(data) > max_bytes:
        raise fail(name, _too_large(len(data), max_bytes))
    return data, name


def _too_large(size: int, limit: int) -> str:
    return (
        f"the file is {size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB limit. "
        "Remove unused columns and sheets, or split the file."
    )


def detect_format(data: bytes, name: str) -> FileFormat:
    """Return the format of ``data`` from its signature and the suffix of ``name``.

    Raises
    ------
    InputFileError
        Empty files and formats that are not supported (old ``.xls``, lone ``.shp``, ...).
    """
    suffix = PurePosixPath(name.lower()).suffix
    if not data.strip():
        msg = "the file is empty. Save the table with a header row and at least one data row."
        raise fail(name, msg)
    if data.startswith(_OLE2) or suffix in {".xls", ".et", ".wps"}:
        msg = (
            "old binary Excel/WPS files (.xls) are not read. In Excel or WPS choose "
            "File > Save As > 'Excel Workbook (*.xlsx)' or 'CSV UTF-8', then load that file."
        )
        raise fail(name, msg)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if data.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if suffix in {".shp", ".shx", ".dbf", ".prj"}:
        msg = (
            "a shapefile is several files (.shp, .shx, .dbf, .prj). Put them together in one "
            ".zip archive and load the .zip."
        )
        raise fail(name, msg)
    if suffix in {".xlsx", ".xlsm", ".gpkg", ".zip"}:
        kind = {".gpkg": "a GeoPackage", ".zip": "a zip archive"}.get(suffix, "an .xlsx workbook")
        msg = f"the file is not {kind} (its content does not match its name); re-export it."
        raise fail(name, msg)
    if suffix in _SPATIAL_SUFFIXES:
        return "geojson"
    if suffix in _TABLE_SUFFIXES:
        return "csv"
    msg = f"files ending in {suffix!r} are not read. Use {_SUPPORTED}."
    raise fail(name, msg)


def _read_bytes(data: bytes, name: str, *, max_unzipped_bytes: int, depth: int) -> pd.DataFrame:
    fmt = detect_format(data, name)
    if fmt == "csv":
        frame = _read_csv(data, name)
    elif fmt == "geojson":
        frame = _read_spatial(data, name, suffix=".geojson")
    elif fmt == "gpkg":
        frame = _read_spatial(data, name, suffix=".gpkg")
    else:
        zf = _open_zip(data, name, max_unzipped_bytes=max_unzipped_bytes)
        with zf:
            members = set(zf.namelist())
            if "xl/workbook.xml" in members or "[Content_Types].xml" in members:
                frame = _read_xlsx(data, name)
            elif depth > 0:
                msg = "a zip archive inside a zip archive is not read; unpack the inner one."
                raise fail(name, msg)
            else:
                frame = _read_zip_contents(zf, name, max_unzipped_bytes=max_unzipped_bytes)
    frame.attrs["file"] = name
    logger.info("Read %s (%s): %d rows, %d columns", name, fmt, len(frame), frame.shape[1])
    return frame


# --------------------------------------------------------------------------------------- zips
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


def _open_zip(data: bytes, name: str, *, max_unzipped_bytes: int) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except _ZIP_ERRORS:
        msg = "the zip archive is damaged or incomplete; create it again and reload it."
        raise fail(name, msg) from None
    try:
        check_zip_members(infos, name, max_unzipped_bytes=max_unzipped_bytes)
    except InputFileError:
        zf.close()
        raise
    return zf


def check_zip_members(
    infos: list[zipfile.ZipInfo], name: str, *, max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES
) -> None:
    """Refuse unsafe zip archives before anything is extracted.

    Raises
    ------
    InputFileError
        Too many members, absolute or ``..`` paths, symbolic links, encrypted members, or a
        possible zip bomb (total uncompressed size above ``max_unzipped_bytes``, or a member
        over 1 MB compressed more than :data:`MAX_ZIP_RATIO` times).
    """
    if len(infos) > MAX_ZIP_MEMBERS:
        msg = (
            f"the zip archive has {len(infos)} members (at most {MAX_ZIP_MEMBERS}); zip only "
            "the files needed (.shp, .shx, .dbf, .prj, .cpg)."
        )
        raise fail(name, msg)
    total = 0
    for info in infos:
        member = info.filename.replace("\\", "/")
        parts = PurePosixPath(member).parts
        if member.startswith("/") or re.match(r"^[A-Za-z]:", member) or ".." in parts:
            msg = (
                f"the zip archive contains an unsafe path {info.filename!r} (absolute or with "
                "'..'); it was refused. Zip the files themselves, without folders above them."
            )
            raise fail(name, msg)
        if stat.S_ISLNK(info.external_attr >> 16):
            msg = f"the zip archive contains a symbolic link {info.filename!r}; it was refused."
            raise fail(name, msg)
        if info.flag_bits & 0x1:
            msg = f"the zip member {info.filename!r} is encrypted; zip it without a password."
            raise fail(name, msg)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_ZIP_RATIO:
            msg = (
                f"the zip member {info.filename!r} expands {ratio:.0f} times "
                f"(to {info.file_size / 1e6:.0f} MB); this looks like a zip bomb and was refused."
            )
            raise fail(name, msg)
    if total > max_unzipped_bytes:
        msg = (
            f"the zip archive expands to {total / 1e6:.0f} MB, more than the "
            f"{max_unzipped_bytes / 1e6:.0f} MB limit; it was refused (possible zip bomb)."
        )
        raise fail(name, msg)


def _extract(info: zipfile.ZipInfo, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read one member, never more than ``limit`` bytes whatever its header says."""
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1 << 20):
                out += chunk
                if len(out) > limit:
                    msg = "a zip member is larger than its header says; the archive was refused."
                    raise fail(name, msg)
    except _ZIP_ERRORS:
        msg = "the zip archive is damaged (a member cannot be read); create it again."
        raise fail(name, msg) from None
    return bytes(out)


def _read_zip_contents(
    archive: zipfile.ZipFile, name: str, *, max_unzipped_bytes: int
) -> pd.DataFrame:
    infos = [
        i
        for i in archive.infolist()
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not PurePosixPath(i.filename).name.startswith(".")
    ]
    shps = [i for i in infos if i.filename.lower().endswith(".shp")]
    if len(shps) > 1:
        listed = ", ".join(repr(i.filename) for i in shps[:10])
        msg = f"the zip archive holds {len(shps)} shapefiles ({listed}); zip one at a time."
        raise fail(name, msg)
    if shps:
        stem = shps[0].filename[:-4]
        parts = {
            i.filename[len(stem) :].lower(): i
            for i in infos
            if i.filename.startswith(stem) and i.filename[len(stem) :].lower() in _SHAPEFILE_PARTS
        }
        missing = [p for p in (".shx", ".dbf") if p not in parts]
        if missing:
            msg = (
                f"the shapefile {shps[0].filename!r} is incomplete: {', '.join(missing)} "
                "missing from the zip. Zip all its files (.shp, .shx, .dbf, .prj, .cpg) together."
            )
            raise fail(name, msg)
        with tempfile.TemporaryDirectory(prefix="kangle-shp-") as tmp:
            for suffix, info in parts.items():
                blob = _extract(info, archive, name, max_unzipped_bytes)
                (Path(tmp) / f"input{suffix}").write_bytes(blob)
            encoding = None if ".cpg" in parts else _dbf_encoding(Path(tmp) / "input.dbf")
            frame = _read_spatial_path(Path(tmp) / "input.shp", name, encoding=encoding)
        frame.attrs["format"] = "shapefile"
        return frame
    readable = [
        i
        for i in infos
        if PurePosixPath(i.filename.lower()).suffix in {*_SPATIAL_SUFFIXES, ".csv", ".xlsx"}
    ]
    if len(readable) != 1:
        listed = ", ".join(repr(i.filename) for i in infos[:10]) or "nothing"
        msg = (
            f"the zip archive holds {listed}; it must hold one shapefile (.shp with .shx, "
            ".dbf, .prj) or one CSV/XLSX/GeoJSON/GeoPackage file."
        )
        raise fail(name, msg)
    inner = readable[0]
    blob = _extract(inner, archive, name, max_unzipped_bytes)
    inner_name = f"{name}/{PurePosixPath(inner.filename).name}"
    return _read_bytes(blob, inner_name, max_unzipped_bytes=max_unzipped_bytes, depth=1)


def _dbf_encoding(path: Path) -> str:
    """Guess a .dbf's text encoding when no .cpg says it: UTF-8 if valid, else GB18030."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


# -------------------------------------------------------------------------------- spatial
def _read_spatial(data: bytes, name: str, *, suffix: str) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="kangle-in-") as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        frame = _read_spatial_path(path, name, encoding=None)
    frame.attrs["format"] = suffix.lstrip(".")
    return frame


def _read_spatial_path(path: Path, name: str, *, encoding: str | None) -> pd.DataFrame:
    import pyogrio  # noqa: PLC0415  (GDAL is slow to import; only spatial files need it)

    kind = {".geojson": "GeoJSON", ".gpkg": "GeoPackage", ".shp": "shapefile"}[path.suffix]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL notes on odd files; problems are checked below
            layers = pyogrio.list_layers(path)
            if len(layers) == 0:
                msg = f"the {kind} has no layers; export the facilities layer again."
                raise fail(name, msg)  # noqa: TRY301
            if len(layers) > 1:
                others = ", ".join(str(x) for x in layers[1:6, 0])
                warnings.warn(
                    f"{name}: the {kind} has {len(layers)} layers; reading the first, "
                    f"{layers[0, 0]!r} (others: {others}). Save the wanted layer alone to "
                    "choose another.",
                    UserWarning,
                    stacklevel=4,
                )
            frame: pd.DataFrame = pyogrio.read_dataframe(
                path, layer=str(layers[0, 0]), encoding=encoding
            )
    except InputFileError:
        raise
    except Exception as err:  # noqa: BLE001  (GDAL raises many types on damaged files)
        reason = str(err).replace(str(path), "the file")[:200]
        msg = f"cannot read the file as a {kind} ({reason}). Export it again from your GIS."
        raise fail(name, msg) from None
    if "geometry" not in frame.columns:
        msg = f"the {kind} has no geometry; add point locations or use a table with 经度/纬度."
        raise fail(name, msg)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    frame.attrs["row_label"] = "feature"
    return frame


# ------------------------------------------------------------------------------------ csv
def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode a text file; return ``(text, encoding)``.

    Tries UTF-16 (when a byte-order mark says so), UTF-8 (with or without BOM), then GB18030
    (a superset of GBK/GB2312, what Excel in China saves as "CSV"), then charset-normalizer's
    best guess.

    Raises
    ------
    InputFileError
        Binary content (NUL bytes) or no encoding fits.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        if b"\x00" in data:
            msg = "the file holds binary data, not text; save the table as 'CSV UTF-8' or .xlsx."
            raise fail(name, msg)
        candidates = ("utf-8-sig", "gb18030")
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text, enc
    from charset_normalizer import from_bytes  # noqa: PLC0415

    best = from_bytes(data).best()
    if best is not None and "\x00" not in str(best):
        logger.info("%s: text encoding guessed as %s", name, best.encoding)
        return str(best), best.encoding
    msg = (
        "the text encoding is not recognised. In Excel choose Save As > 'CSV UTF-8 (comma "
        "delimited)'; in WPS choose UTF-8."
    )
    raise fail(name, msg)


def _read_csv(data: bytes, name: str) -> pd.DataFrame:
    text, encoding = decode_text(data, name)
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        rows = [
            [_clean_cell(c) for c in r]
            for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as err:
        msg = f"the CSV cannot be parsed ({err}); check quotes, or save it again from Excel."
        raise fail(name, msg) from None
    frame = _frame_from_rows(rows, name, first_row=1, pad="")
    frame.attrs.update(format="csv", encoding=encoding, row_label="row")
    return frame


def _clean_cell(value: str) -> str:
    return value.strip().strip("\u3000\ufeff\u200b").strip()


def _col_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _frame_from_rows(
    rows: list[list[Any]], name: str, *, first_row: int, pad: str | None
) -> pd.DataFrame:
    """Build a frame from raw rows: find the header, number rows as Excel shows them."""
    numbered = [(first_row + i, r) for i, r in enumerate(rows) if any(not _blank(c) for c in r)]
    if not numbered:
        msg = "the file has no data. Save the table with a header row and data rows."
        raise fail(name, msg)
    # A title row ("莆田市康复机构名单") above the header: one filled cell, more below it.
    if len(numbered) > 1:
        filled0 = sum(not _blank(c) for c in numbered[0][1])
        filled1 = sum(not _blank(c) for c in numbered[1][1])
        if filled0 == 1 and filled1 > 1:
            logger.info("%s: row %d taken as a title, not the header", name, numbered[0][0])
            numbered = numbered[1:]
    header_row, header_cells = numbered[0]
    body = numbered[1:]
    width = max(len(header_cells), *(len(r) for _, r in body)) if body else len(header_cells)
    problems: list[Problem] = []
    headers: list[str] = []
    for i in range(width):
        cell = header_cells[i] if i < len(header_cells) else None
        text = "" if cell is None else unicodedata.normalize("NFC", str(cell)).strip()
        headers.append(text or f"column_{_col_letter(i)}")
    keep = [
        i
        for i in range(width)
        if not headers[i].startswith("column_")
        or any(i < len(r) and not _blank(r[i]) for _, r in body)
    ]
    seen: dict[str, int] = {}
    for i in keep:
        h = headers[i]
        if h in seen:
            msg = (
                f"the header {h!r} appears twice (columns {_col_letter(seen[h])} and "
                f"{_col_letter(i)}); rename or delete one of them."
            )
            problems.append(Problem(name, header_row, h, msg))
        seen.setdefault(h, i)
    for i in keep:
        if headers[i].startswith("column_") and i >= len(header_cells):
            rows_with = [n for n, r in body if i < len(r) and not _blank(r[i])][:5]
            msg = (
                f"row(s) {', '.join(map(str, rows_with))} have more cells than the header "
                f"(column {_col_letter(i)} has no header). A cell may contain an unquoted "
                "comma: quote it, or give the column a header."
            )
            problems.append(Problem(name, rows_with[0], None, msg))
    if not body:
        msg = "the file has a header row but no data rows. Add the data below the header."
        problems.append(Problem(name, None, None, msg))
    if problems:
        raise InputFileError(name, problems)
    columns = [headers[i] for i in keep]
    data = {
        h: [r[i] if i < len(r) else pad for _, r in body]
        for h, i in zip(columns, keep, strict=True)
    }
    return pd.DataFrame(data, index=pd.Index([n for n, _ in body], name="row"), dtype=object)


# ----------------------------------------------------------------------------------- xlsx
MAX_BLANK_ROWS = 10_000
"""Reading a sheet stops after this many blank rows in a row (whole formatted columns)."""


def _sheet_cells(ws: Any) -> list[list[tuple[Any, str | None]]]:
    cells: list[list[tuple[Any, str | None]]] = []
    blank_run = 0
    for row in ws.iter_rows():
        values = [(c.value, getattr(c, "data_type", None)) for c in row]
        blank_run = blank_run + 1 if all(_blank(v) for v, _ in values) else 0
        if blank_run > MAX_BLANK_ROWS:
            break
        cells.append(values)
    return cells[: len(cells) - blank_run] if blank_run else cells


def _read_xlsx(data: bytes, name: str) -> pd.DataFrame:
    from openpyxl import load_workbook  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl notes on styles/extensions it drops
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                if not wb.worksheets:
                    msg = "the workbook has no worksheet; put the table on the first sheet."
                    raise fail(name, msg)
                ws = wb.worksheets[0]
                cells = _sheet_cells(ws)
                sheet = ws.title
                others = [w.title for w in wb.worksheets[1:]]
            finally:
                wb.close()
            formulas = [
                (r, c) for r, row in enumerate(cells) for c, (_, t) in enumerate(row) if t == "f"
            ]
            cached: dict[tuple[int, int], Any] = {}
            if formulas:
                wb2 = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                try:
                    values = [list(r) for r in wb2.worksheets[0].iter_rows(values_only=True)]
                finally:
                    wb2.close()
                for r, c in formulas:
                    cached[r, c] = values[r][c] if r < len(values) and c < len(values[r]) else None
    except InputFileError:
        raise
    except Exception as err:  # noqa: BLE001  (openpyxl raises many types on damaged files)
        reason = type(err).__name__
        msg = (
            f"cannot read the workbook ({reason}): it may be damaged, password-protected or "
            "not a real .xlsx. Open it in Excel/WPS and save it again as .xlsx."
        )
        raise fail(name, msg) from None
    if not any(not _blank(v) for row in cells for v, _ in row):
        where = (
            f" (the other sheets, {', '.join(map(repr, others))}, are not read)" if others else ""
        )
        msg = f"the first sheet {sheet!r} is empty{where}; put the table on the first sheet."
        raise fail(name, msg)
    problems: list[Problem] = []
    rows: list[list[Any]] = []
    for r, row in enumerate(cells):
        out = []
        for c, (value, _) in enumerate(row):
            if (r, c) in cached:
                value = cached[r, c]  # noqa: PLW2901
                if value is None:
                    msg = (
                        f"cell {_col_letter(c)}{r + 1} holds a formula without a saved result; "  # noqa: S608
                        "formulas are never calculated here. Open the file in Excel and save "
                        "it, or replace the formulas by their values (Paste Special > Values)."
                    )
                    problems.append(Problem(name, r + 1, None, msg))
            out.append(value.strip() if isinstance(value, str) else value)
        rows.append(out)
    if problems:
        raise InputFileError(name, problems)
    frame = _frame_from_rows(rows, name, first_row=1, pad=None)
    if formulas:
        logger.info("%s: %d formula cells read as their saved values", name, len(formulas))
    frame.attrs.update(format="xlsx", sheet=sheet, row_label="row")
    return frame
