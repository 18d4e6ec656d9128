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

from planning import i18n
from planning.errors import DataError, PlanningWarning
from planning.i18n import Msg

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
    msg
        What is wrong and what to do: a catalog message (:class:`~planning.i18n.Msg`), rendered
        in each caller's language by :meth:`describe`.
    row_label
        ``"row"`` for tables, ``"feature"`` for spatial files.
    """

    file: str
    row: int | None
    column: str | None
    msg: i18n.Msg
    row_label: str = "row"

    @property
    def message(self) -> i18n.Msg:
        """What is wrong and what to do: :attr:`msg`, as callers of old read it.

        A catalog message here also compares equal to its English text, the plain string this
        attribute held before messages had codes (transitional; render it with ``.text(lang)``
        or :meth:`describe`).
        """
        return _EnglishEqualMsg(self.msg)

    def describe(self, lang: str | None = None) -> str:
        """Return what is wrong and what to do, in ``lang`` (``None``: the default language)."""
        return self.msg.text(lang)

    @property
    def located(self) -> i18n.Msg:
        """The message with where it is: ``file, row N, column 'C': message``."""
        where: list[Any] = [self.file]
        if self.row is not None:
            if self.row_label == "feature":
                where.append(i18n.Msg("files.at_feature", row=self.row))
            else:
                where.append(i18n.Msg("files.at_row", row=self.row))
        if self.column is not None:
            where.append(i18n.Msg("files.at_column", column=self.column))
        return i18n.Msg(
            "files.located", where=i18n.Joined(where, sep="common.comma_sep"), message=self.msg
        )

    def text(self, lang: str | None = None) -> str:
        """Return ``file, row N, column 'C': message`` in ``lang``."""
        return self.located.text(lang)

    def __str__(self) -> str:
        """Return ``file, row N, column 'C': message`` in the default language."""
        return self.text()


class _EnglishEqualMsg(i18n.Msg):
    """A :class:`~planning.i18n.Msg` that also equals its English text (see Problem.message)."""

    __slots__ = ()

    def __init__(self, msg: i18n.Msg) -> None:
        super().__init__(msg.key, **msg.params)

    def __eq__(self, other: object) -> bool:
        """Equal to the same message, or to its English text."""
        if isinstance(other, str):
            return self.text("en") == other
        return super().__eq__(other)

    __hash__ = i18n.Msg.__hash__


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
        listing = problems_message(file, self.problems)
        super().__init__(listing.key, **listing.params)


def problems_message(file: str, problems: tuple[Problem, ...] | list[Problem]) -> i18n.Msg:
    """Return the message listing ``problems`` (at most :data:`MAX_PROBLEMS_SHOWN`), unrendered."""
    n = len(problems)
    if n == 1:
        return problems[0].located
    lines: list[i18n.Msg] = [
        i18n.Msg("files.problem_line", problem=p.located) for p in problems[:MAX_PROBLEMS_SHOWN]
    ]
    if n > MAX_PROBLEMS_SHOWN:
        lines.append(i18n.Msg("files.problems_more", n=n - MAX_PROBLEMS_SHOWN))
    return i18n.Msg(
        "files.problems", file=file, n=n, lines=i18n.Joined(lines, sep="files.line_sep")
    )


def format_problems(
    file: str, problems: tuple[Problem, ...] | list[Problem], lang: str | None = None
) -> str:
    """Return the error message listing ``problems`` in ``lang`` (``None``: default language)."""
    return problems_message(file, problems).text(lang)


def fail(file: str, message: i18n.Msg, *, column: str | None = None) -> InputFileError:
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
            raise fail(name, Msg("files.not_found", path=str(path))) from None
        if not path.is_file():
            raise fail(name, Msg("files.is_folder", path=str(path))) from None
        if size > max_bytes:
            raise fail(name, _too_large(size, max_bytes))
        try:
            data = path.read_bytes()
        except OSError as err:
            raise fail(name, Msg("files.cannot_read", reason=err.strerror)) from None
    elif hasattr(source, "read"):
        name = filename or Path(str(getattr(source, "name", "") or "upload")).name
        raw: Any = source.read(max_bytes + 1)
        if not isinstance(raw, bytes | bytearray):
            raise fail(name, Msg("files.binary_mode_needed"))
        data = bytes(raw)
    else:
        raise fail(filename or "input", Msg("files.source_unknown", kind=type(source).__name__))
    if len(data) > max_bytes:
        raise fail(name, _too_large(len(data), max_bytes))
    return data, name


def _too_large(size: int, limit: int) -> Msg:
    return Msg("files.too_large", size_mb=size / 1e6, limit_mb=limit / 1e6)


def detect_format(data: bytes, name: str) -> FileFormat:
    """Return the format of ``data`` from its signature and the suffix of ``name``.

    Raises
    ------
    InputFileError
        Empty files and formats that are not supported (old ``.xls``, lone ``.shp``, ...).
    """
    suffix = PurePosixPath(name.lower()).suffix
    if not data.strip():
        raise fail(name, Msg("files.empty"))
    if data.startswith(_OLE2) or suffix in {".xls", ".et", ".wps"}:
        raise fail(name, Msg("files.xls_not_read"))
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if data.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if suffix in {".shp", ".shx", ".dbf", ".prj"}:
        raise fail(name, Msg("files.shapefile_parts"))
    if suffix in {".xlsx", ".xlsm", ".gpkg", ".zip"}:
        kinds = {".gpkg": Msg("files.kind_gpkg"), ".zip": Msg("files.kind_zip")}
        kind = kinds.get(suffix, Msg("files.kind_xlsx"))
        raise fail(name, Msg("files.content_mismatch", kind=kind))
    if suffix in _SPATIAL_SUFFIXES:
        return "geojson"
    if suffix in _TABLE_SUFFIXES:
        return "csv"
    raise fail(name, Msg("files.suffix_unsupported", suffix=suffix))


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
                raise fail(name, Msg("files.zip_nested"))
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
        raise fail(name, Msg("files.zip_damaged")) from None
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
        raise fail(name, Msg("files.zip_members", n=len(infos), limit=MAX_ZIP_MEMBERS))
    total = 0
    for info in infos:
        member = info.filename.replace("\\", "/")
        parts = PurePosixPath(member).parts
        if member.startswith("/") or re.match(r"^[A-Za-z]:", member) or ".." in parts:
            raise fail(name, Msg("files.zip_unsafe_path", member=info.filename))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise fail(name, Msg("files.zip_symlink", member=info.filename))
        if info.flag_bits & 0x1:
            raise fail(name, Msg("files.zip_encrypted", member=info.filename))
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_ZIP_RATIO:
            msg = Msg(
                "files.zip_bomb_member",
                member=info.filename,
                ratio=ratio,
                size_mb=info.file_size / 1e6,
            )
            raise fail(name, msg)
    if total > max_unzipped_bytes:
        msg = Msg("files.zip_bomb", size_mb=total / 1e6, limit_mb=max_unzipped_bytes / 1e6)
        raise fail(name, msg)


def _extract(info: zipfile.ZipInfo, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read one member, never more than ``limit`` bytes whatever its header says."""
    out = bytearray()
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1 << 20):
                out += chunk
                if len(out) > limit:
                    raise fail(name, Msg("files.zip_member_lies"))
    except _ZIP_ERRORS:
        raise fail(name, Msg("files.zip_member_unreadable")) from None
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
        raise fail(name, Msg("files.zip_many_shapefiles", n=len(shps), listed=listed))
    if shps:
        stem = shps[0].filename[:-4]
        parts = {
            i.filename[len(stem) :].lower(): i
            for i in infos
            if i.filename.startswith(stem) and i.filename[len(stem) :].lower() in _SHAPEFILE_PARTS
        }
        missing = [p for p in (".shx", ".dbf") if p not in parts]
        if missing:
            msg = Msg(
                "files.shapefile_incomplete", shapefile=shps[0].filename, missing=", ".join(missing)
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
        held: str | Msg = ", ".join(repr(i.filename) for i in infos[:10]) or Msg("files.nothing")
        raise fail(name, Msg("files.zip_contents", listed=held))
    inner = readable[0]
    blob = _extract(inner, archive, name, max_unzipped_bytes)
    inner_name = f"{name}/{PurePosixPath(inner.filename).name}"
    return _read_bytes(blob, inner_name, max_unzipped_bytes=max_unzipped_bytes, depth=1)


def _dbf_encoding(path: Path) -> str:
    """Guess a .dbf's text encoding when no .cpg says it: UTF-8 if valid, else GB18030.

    Only the text of the file is tried (field names and records): the header's binary numbers
    are not text in any encoding.
    """
    data = path.read_bytes()
    text = data
    if len(data) >= 32:
        header = int.from_bytes(data[8:10], "little")
        names = b"".join(data[i : i + 11] for i in range(32, min(header, len(data)) - 31, 32))
        text = names + data[header:]
    try:
        text.replace(b"\x00", b"").replace(b"\x1a", b"").decode("utf-8")
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

    kind = {".geojson": "GeoJSON", ".gpkg": "GeoPackage", ".shp": "shapefile"}[path.suffix]  # names
    many: PlanningWarning | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL notes on odd files; problems are checked below
            layers = pyogrio.list_layers(path)
            if len(layers) == 0:
                raise fail(name, Msg("files.no_layers", kind=kind))  # noqa: TRY301
            if len(layers) > 1:
                others = ", ".join(str(x) for x in layers[1:6, 0])
                many = PlanningWarning(
                    "files.many_layers",
                    file=name,
                    kind=kind,
                    n=len(layers),
                    first=str(layers[0, 0]),
                    others=others,
                )
            frame: pd.DataFrame = pyogrio.read_dataframe(
                path, layer=str(layers[0, 0]), encoding=encoding
            )
    except InputFileError:
        raise
    except Exception as err:  # noqa: BLE001  (GDAL raises many types on damaged files)
        reason = str(err).replace(str(path), "the file")[:200]
        raise fail(name, Msg("files.spatial_unreadable", kind=kind, reason=reason)) from None
    if "geometry" not in frame.columns:
        raise fail(name, Msg("files.no_geometry", kind=kind))
    if many is not None:  # outside the block that silences GDAL, or it is never seen
        warnings.warn(many, stacklevel=4)
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
            raise fail(name, Msg("files.binary_data"))
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
    raise fail(name, Msg("files.encoding_unknown"))


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
        raise fail(name, Msg("files.csv_unparsable", reason=str(err))) from None
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
        raise fail(name, Msg("files.no_data"))
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
            msg = Msg(
                "files.header_twice", header=h, first=_col_letter(seen[h]), second=_col_letter(i)
            )
            problems.append(Problem(name, header_row, h, msg))
        seen.setdefault(h, i)
    for i in keep:
        if headers[i].startswith("column_") and i >= len(header_cells):
            rows_with = [n for n, r in body if i < len(r) and not _blank(r[i])][:5]
            msg = Msg(
                "files.cells_beyond_header",
                rows=", ".join(map(str, rows_with)),
                column=_col_letter(i),
            )
            problems.append(Problem(name, rows_with[0], None, msg))
    if not body:
        problems.append(Problem(name, None, None, Msg("files.header_only")))
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
                    raise fail(name, Msg("files.no_worksheet"))
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
        raise fail(name, Msg("files.workbook_unreadable", reason=reason)) from None
    if not any(not _blank(v) for row in cells for v, _ in row):
        if others:
            msg = Msg(
                "files.first_sheet_empty_others", sheet=sheet, others=", ".join(map(repr, others))
            )
        else:
            msg = Msg("files.first_sheet_empty", sheet=sheet)
        raise fail(name, msg)
    problems: list[Problem] = []
    rows: list[list[Any]] = []
    for r, row in enumerate(cells):
        out = []
        for c, (value, _) in enumerate(row):
            if (r, c) in cached:
                value = cached[r, c]  # noqa: PLW2901
                if value is None:
                    msg = Msg("files.formula_unsaved", cell=f"{_col_letter(c)}{r + 1}")
                    problems.append(Problem(name, r + 1, None, msg))
            out.append(value.strip() if isinstance(value, str) else value)
        rows.append(out)
    if problems:
        raise InputFileError(name, problems)
    frame = _frame_from_rows(rows, name, first_row=1, pad=None)
    if formulas:
        logger.info("%s: %d formula cells read as their saved values", name, len(formulas))
    if others:  # never silently: the planner may have meant another sheet
        shown = ", ".join(map(repr, others[:5])) + (" …" if len(others) > 5 else "")
        warning = PlanningWarning("files.first_sheet_only", file=name, sheet=sheet, others=shown)
        warnings.warn(warning, stacklevel=5)
    frame.attrs.update(format="xlsx", sheet=sheet, row_label="row")
    return frame
