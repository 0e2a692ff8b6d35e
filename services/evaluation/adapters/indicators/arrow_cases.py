"""The fast reader of a cases file: Apache Arrow's multi-threaded JSON reader, straight into columns.

It accepts a file only when it can prove the line-by-line reader (``files._CaseChunks``) would accept it
and read the same values: one JSON object per line, every field present with its type, every value within the
rules. Anything else (a blank line, CRLF, a missing field, a bad value, a pretty-printed object) makes it answer
``None``, and the line-by-line reader reads the file again and names the file, line and field of the problem.
So the two readers never disagree, and the fast one only ever has to be right about good files.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ...domain.indicators.table import CaseTable, Ints

_TEXT = ("case_id", "hospital", "dept", "doctor", "psn_no", "group", "adm_date", "dscg_date", "total_cost",
         "dscg_way")
_SCHEMA = pa.schema([*((name, pa.string()) for name in _TEXT), ("los", pa.int64())])
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_FIRST_DAY = date(1, 1, 1).toordinal() - _EPOCH_ORDINAL
_UNIT_CODES = ("hospital", "dept", "doctor", "group")
"""Codes printed as units or groups: they must fit a CSV cell unquoted."""


def read_cases_fast(data: bytes, discharge_ways: frozenset[str], died: str, max_los: int) -> CaseTable | None:
    """The cases of a JSON-lines file's bytes, or ``None`` when the file is not plainly good (see the module)."""
    lines = _plain_lines(data)
    if lines is None:
        return None
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=_PARSE)
    except pa.ArrowInvalid:
        return None
    if table.num_rows != lines:
        return None
    columns = {name: table[name].combine_chunks() for name in (*_TEXT, "los")}
    try:
        for column in columns.values():
            column.validate(full=True)  # strings are valid UTF-8
    except pa.ArrowInvalid:
        return None
    if any(column.null_count for column in columns.values()):
        return None
    return _table(columns, discharge_ways, died, max_los)


def _plain_lines(data: bytes) -> int | None:
    """The number of lines when every line is ``{...}`` ending in ``\\n`` or the end of data, else ``None``.

    Each line then starts at the top level of the JSON text (a line that ended inside an object would not end
    with ``}`` followed by a line starting with ``{``), so one row per line means one object per line.
    """
    if not data.startswith(b"{") or not (data.endswith(b"}\n") or data.endswith(b"}")):
        return None
    newlines = data.count(b"\n")
    lines = newlines if data.endswith(b"\n") else newlines + 1
    if data.count(b"}\n{") != lines - 1:  # every newline but a final one sits between "}" and "{"
        return None
    return lines


def _table(columns: dict[str, pa.Array], discharge_ways: frozenset[str], died: str,
           max_los: int) -> CaseTable | None:
    if not _distinct(columns["case_id"]):
        return None
    if not pc.all(pc.is_in(columns["dscg_way"], value_set=pa.array(sorted(discharge_ways)))).as_py():
        return None
    los = columns["los"].to_numpy()
    if los.min() < 0 or los.max() > max_los:
        return None
    amounts = columns["total_cost"]
    if not pc.all(pc.match_substring_regex(amounts, r"^[0-9]{1,10}\.[0-9]{2}$")).as_py():
        return None
    cost_fen = pc.cast(pc.replace_substring(amounts, ".", ""), pa.int64()).to_numpy()
    adm, dscg = _days(columns["adm_date"]), _days(columns["dscg_date"])
    if adm is None or dscg is None or bool(np.any(dscg < adm)):
        return None
    coded = {name: pc.dictionary_encode(columns[name]) for name in (*_UNIT_CODES, "psn_no")}
    labels = {name: array.dictionary for name, array in coded.items()}
    if any(pc.any(pc.equal(pc.utf8_length(values), 0)).as_py() for values in labels.values()):
        return None
    if any(pc.any(pc.match_substring_regex(labels[name], '[,"\r\n\t]')).as_py() for name in _UNIT_CODES):
        return None
    codes = {name: array.indices.to_numpy().astype(np.int64) for name, array in coded.items()}
    return CaseTable(
        hospital_labels=tuple(labels["hospital"].to_pylist()), hospital=codes["hospital"],
        dept_labels=tuple(labels["dept"].to_pylist()), dept=codes["dept"],
        doctor_labels=tuple(labels["doctor"].to_pylist()), doctor=codes["doctor"],
        group_labels=tuple(labels["group"].to_pylist()), group=codes["group"],
        person=codes["psn_no"], adm_day=adm, dscg_day=dscg, los=los.astype(np.int64),
        cost_fen=cost_fen.astype(np.int64),
        died=pc.equal(columns["dscg_way"], died).to_numpy(zero_copy_only=False).astype(np.bool_))


def _distinct(ids: pa.Array) -> bool:
    """No value twice: at once when the values are in strictly ascending order (files written in case order),
    else by hashing them (``unique``: twice as fast as ``count_distinct``)."""
    if len(ids) < 2 or pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
        return True
    return len(pc.unique(ids)) == len(ids)


def _days(column: pa.Array) -> Ints | None:
    """Proleptic ordinals of ``YYYY-MM-DD`` texts (years 1-9999, real calendar days), else ``None``."""
    if not pc.all(pc.match_substring_regex(column, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).as_py():
        return None
    try:
        days: Ints = pc.cast(column, pa.date32()).cast(pa.int32()).to_numpy().astype(np.int64)
    except pa.ArrowInvalid:
        return None
    if days.min() < _FIRST_DAY:  # year 0000: Python's calendar starts at year 1
        return None
    return days + _EPOCH_ORDINAL
