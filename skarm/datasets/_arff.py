"""A reader for ARFF files, dense and sparse, plain or gzip-compressed.

``scipy.io.arff`` cannot read sparse ARFF. liac-arff (the reader scikit-learn vendors) can,
and was measured against this module to decide whether skarm should depend on it instead
(issue #18; gzip files of the MULAN sets, two runs each, time from the path to the raw
table, liac-arff's before its lists become arrays): enron 0.16-0.19 s against 0.09-0.13 s
here, bibtex 0.45-0.48 against 0.46-0.50, delicious 0.55-0.56 against 0.49-0.67, yeast
0.11-0.16 against 0.11-0.14, medical 0.02 against 0.01-0.03. Speed is no reason either
way (and parses are cached), but liac-arff accepts what skarm must refuse, so keeping
skarm's checks would mean a second pass of our own over every value, with no line numbers
to report:

* ``1e400``, ``inf`` and ``nan`` become non-finite floats without a word (here: an error
  naming the file, the line and the attribute; ``?`` stays the missing value);
* a sparse row that gives an index twice, ``{1 2, 1 3}``, keeps the last value silently;
* its sparse (COO) mode refuses a file that mixes dense and sparse rows (``BadLayout``),
  and its dense mode expands every sparse row into a Python list of all d values.

So skarm carries its own reader. It keeps Python work per *row*,
not per value: the rows of the data section are joined and split once, and every value is
converted by numpy on whole arrays (numbers with ``astype``, nominal values through
``np.unique``). Values in quotes are rare in multi-label data; a data section that holds
quotes goes through a slower tokenizer that handles them (and escapes) row by row.

Reading is in two steps:

* :func:`read_arff` gives the *raw* table: one float per attribute, the number for a
  numeric attribute, the 0-based index of the value for a nominal one, NaN for ``?``.
  Raw 0 is also what a sparse row means by an omitted entry (numeric 0, first nominal
  value), so dense and sparse files share this representation.
* :func:`encode_attributes` turns raw columns into features and labels (see its docstring
  for the encoding of nominal attributes and the rule that drops identifiers).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import gzip
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ArffAttribute",
    "ArffTable",
    "encode_attributes",
    "is_identifier",
    "nominal_lookup",
    "read_arff",
]

NUMERIC, NOMINAL, STRING, DATE = "numeric", "nominal", "string", "date"

# Two-valued nominal attributes whose values read as a truth value are coded by meaning,
# not by declaration order: genbase declares {YES,NO}, and YES must be 1.
_TRUE_VALUES = frozenset({"1", "true", "t", "yes", "y", "positive", "pos", "on"})
_FALSE_VALUES = frozenset({"0", "false", "f", "no", "n", "negative", "neg", "off"})

# Names of a row identifier rather than a measurement (genbase's ``protein``, a nominal
# attribute with one value per protein). Matched case-insensitively, and only for nominal
# attributes with more than two values: bag-of-words vocabularies hold two-valued word
# features called "key", "protein", "instance" or "form_id" (enron, bibtex, delicious).
_IDENTIFIER_RE = re.compile(
    r"(id|ids|identifier|uid|uuid|key|name|filename|protein|gene|instance|sample)"
    r"|.*[_\-. ](id|identifier)|(id|identifier)[_\-. ].*",
    re.IGNORECASE,
)


@dataclass
class ArffAttribute:
    """One ``@attribute`` declaration.

    Attributes
    ----------
    name : str
    kind : {"numeric", "nominal", "string", "date"}
    values : tuple of str
        The declared values of a nominal attribute, in order; empty otherwise.
    lineno : int
        Line of the declaration (1-based), for error messages.
    """

    name: str
    kind: str
    values: tuple = ()
    lineno: int = 0


@dataclass
class ArffTable:
    """The raw content of an ARFF file; see the module docstring.

    Attributes
    ----------
    path : str
    relation : str
    attributes : list of ArffAttribute
    raw : ndarray of shape (n_rows, n_attributes) or tuple of (rows, cols, values)
        Dense raw values, or coordinates of the non-zero raw values when the file has at
        least one sparse row.
    n_rows : int
    linenos : ndarray of shape (n_rows,)
        Line (1-based) of each data row.
    sparse : bool
    """

    path: str
    relation: str
    attributes: list
    raw: object
    n_rows: int
    linenos: np.ndarray = field(repr=False)
    sparse: bool = False


def _error(path, lineno, message):
    return ValueError(f"{path}, line {lineno}: {message}")


def is_identifier(attribute):
    """Whether an attribute is a row identifier, dropped from the features.

    That is a nominal attribute with more than two declared values whose name reads as an
    identifier: ``id``, ``ids``, ``identifier``, ``uid``, ``uuid``, ``key``, ``name``,
    ``filename``, ``protein``, ``gene``, ``instance`` or ``sample``, or a name that ends in
    ``_id``/``-id``/``.id``/`` id`` (or ``identifier``) or starts with ``id_`` and the like,
    case-insensitively. The rule reads the header only, so train and test files of a data
    set keep the same columns.
    """
    return (
        attribute.kind == NOMINAL
        and len(attribute.values) > 2
        and _IDENTIFIER_RE.fullmatch(attribute.name.strip()) is not None
    )


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _read_bytes(path):
    """Whole file as bytes; gzip is recognised by its magic number, not by the name."""
    if not _is_gzip(path):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, OSError, zlib.error) as exc:
        # Re-read line by line only now, to tell the user where the readable part ends:
        # the complete lines come out, the break is on the next one.
        n_lines = 0
        try:
            with gzip.open(path, "rb") as f:
                for _ in f:
                    n_lines += 1
        except (EOFError, OSError, zlib.error):
            pass
        raise ValueError(
            f"{path}, line {n_lines + 1}: the compressed data end or break off here "
            f"({exc}); the file is truncated or corrupt. Delete it and copy it again."
        ) from exc


def _decode(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Weka writes UTF-8, but older files are Latin-1; that decoding never fails.
        return data.decode("latin-1")


_QUOTED_RE = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""", re.DOTALL)
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(text):
    return _ESCAPE_RE.sub(r"\1", text)


def _split_quoted(text, sep=","):
    """Split ``text`` on ``sep`` outside quotes; strip and unquote the pieces.

    Returns the pieces and, for each, whether it was quoted (a quoted ``'?'`` is a value,
    not a missing one). Raises ValueError on an unterminated quote.
    """
    pieces, quoted = [], []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t":
            pos += 1
        if pos < n and text[pos] in "'\"":
            match = _QUOTED_RE.match(text, pos)
            if match is None:
                raise ValueError(f"unterminated quote in {text[pos : pos + 40]!r}")
            inner = match.group(1) if match.group(1) is not None else match.group(2)
            pieces.append(_unescape(inner))
            quoted.append(True)
            pos = match.end()
            while pos < n and text[pos] in " \t":
                pos += 1
            if pos < n and text[pos] != sep:
                raise ValueError(f"unexpected text after a quoted value: {text[pos : pos + 40]!r}")
        else:
            end = text.find(sep, pos)
            end = n if end < 0 else end
            pieces.append(text[pos:end].strip())
            quoted.append(False)
            pos = end
        if pos >= n:
            return pieces, quoted
        pos += 1  # skip the separator


def _parse_attribute(rest, path, lineno):
    """Parse what follows ``@attribute``: a (possibly quoted) name, then the type."""
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        match = _QUOTED_RE.match(rest)
        if match is None:
            raise _error(path, lineno, "unterminated quote in the attribute name.")
        name = _unescape(match.group(1) if match.group(1) is not None else match.group(2))
        type_text = rest[match.end() :].strip()
    else:
        match = re.match(r"([^\s{]+)\s*(.*)$", rest)
        if match is None:
            raise _error(path, lineno, "an @attribute line needs a name and a type.")
        name, type_text = match.group(1), match.group(2).strip()
    lowered = type_text.lower()
    if lowered in ("numeric", "real", "integer"):
        return ArffAttribute(name, NUMERIC, (), lineno)
    if lowered == "string":
        return ArffAttribute(name, STRING, (), lineno)
    if lowered.startswith("date"):
        return ArffAttribute(name, DATE, (), lineno)
    if type_text.startswith("{"):
        if not type_text.endswith("}"):
            raise _error(path, lineno, f"nominal values of attribute {name!r} lack a '}}'.")
        try:
            values, _ = _split_quoted(type_text[1:-1])
        except ValueError as exc:
            raise _error(path, lineno, str(exc)) from None
        values = [v for v in values if v != ""]
        if len(set(values)) != len(values):
            raise _error(path, lineno, f"attribute {name!r} declares a value twice.")
        return ArffAttribute(name, NOMINAL, tuple(values), lineno)
    if lowered.startswith("relational"):
        raise _error(path, lineno, f"relational attribute {name!r} is not supported.")
    raise _error(path, lineno, f"unknown type {type_text!r} of attribute {name!r}.")


def _parse_header(lines, path):
    """Relation, attributes and the index of the first data line."""
    relation, attributes, declared = "", [], {}
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] == "%":
            continue
        keyword = stripped.split(None, 1)[0].lower()
        if keyword == "@relation":
            relation = stripped[len("@relation") :].strip().strip("'\"")
        elif keyword == "@attribute":
            attribute = _parse_attribute(stripped[len("@attribute") :], path, i + 1)
            if attribute.name in declared:
                # Labels and features are selected by name: a second one would be ambiguous.
                raise _error(
                    path,
                    i + 1,
                    f"attribute {attribute.name!r} is declared twice (first on line "
                    f"{declared[attribute.name]}); attribute names must be unique.",
                )
            declared[attribute.name] = i + 1
            attributes.append(attribute)
        elif keyword == "@data":
            if not attributes:
                raise _error(path, i + 1, "@data before any @attribute.")
            return relation, attributes, i + 1
        else:
            raise _error(
                path, i + 1, f"expected @relation, @attribute or @data, got {stripped[:40]!r}."
            )
    raise _error(path, len(lines), "no @data section: the file is truncated or not ARFF.")


def _tokenize_dense(texts, linenos, n_attributes, path):
    """Values of dense rows, flattened row by row, as a unicode array (quotes removed).

    Returns the values and a boolean mask of the values that were quoted.
    """
    if not texts:
        return np.array([], dtype=str), np.array([], dtype=bool)
    joined = "\n".join(texts)
    if "'" in joined or '"' in joined:
        tokens, quoted = [], []
        for text, lineno in zip(texts, linenos, strict=True):
            try:
                row, row_quoted = _split_quoted(text)
            except ValueError as exc:
                raise _error(path, lineno, str(exc)) from None
            if len(row) != n_attributes:
                raise _error(path, lineno, _count_message(n_attributes, len(row)))
            tokens.extend(row)
            quoted.extend(row_quoted)
        return np.array(tokens, dtype=str), np.array(quoted, dtype=bool)
    counts = np.fromiter((t.count(",") + 1 for t in texts), dtype=np.int64, count=len(texts))
    bad = np.flatnonzero(counts != n_attributes)
    if bad.size:
        raise _error(path, linenos[bad[0]], _count_message(n_attributes, counts[bad[0]]))
    tokens = joined.replace("\n", ",").split(",")
    if " " in joined or "\t" in joined:
        tokens = [t.strip() for t in tokens]
    return np.array(tokens, dtype=str), np.zeros(len(tokens), dtype=bool)


def _count_message(expected, got):
    return (
        f"expected {expected} comma-separated values (one per @attribute), got {got}; "
        "the row is truncated or corrupt."
    )


def _tokenize_sparse(texts, linenos, n_attributes, path):
    """Entries of sparse rows ``{index value, ...}``.

    Returns (row position, attribute index, value, quoted) arrays; rows are positions in
    ``texts``.
    """
    for text, lineno in zip(texts, linenos, strict=True):
        if not text.endswith("}"):
            raise _error(path, lineno, "a sparse row must end with '}': the row is truncated.")
    inner = [t[1:-1].strip() for t in texts]
    if any("'" in t or '"' in t for t in inner):
        return _tokenize_sparse_quoted(inner, linenos, n_attributes, path)
    counts = np.fromiter(
        (t.count(",") + 1 if t else 0 for t in inner), dtype=np.int64, count=len(inner)
    )
    entries = ",".join(t for t in inner if t).split(",")
    flat = " ".join(entries).split()
    if len(flat) != 2 * len(entries):
        for text, lineno in zip(inner, linenos, strict=True):
            for entry in text.split(",") if text else ():
                if len(entry.split()) != 2:
                    raise _error(
                        path, lineno, f"sparse entry {entry.strip()!r} is not 'index value'."
                    )
    rows = np.repeat(np.arange(len(texts)), counts)
    index_tokens = np.array(flat[0::2], dtype=str)
    try:
        cols = index_tokens.astype(np.int64)
    except ValueError:
        cols = None
    if cols is None or (cols.size and (cols.min() < 0 or cols.max() >= n_attributes)):
        for k, token in enumerate(index_tokens):
            if not token.isdigit() or int(token) >= n_attributes:
                raise _error(
                    path,
                    linenos[rows[k]],
                    f"sparse index {token!r} is not an attribute index in [0, {n_attributes}).",
                )
    values = np.array(flat[1::2], dtype=str)
    return rows, cols, values, np.zeros(len(values), dtype=bool)


_SPARSE_ENTRY_RE = re.compile(
    r"""\s*(\S+?)\s+('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,'"]*?)\s*(,|$)""", re.DOTALL
)


def _tokenize_sparse_quoted(inner, linenos, n_attributes, path):
    """Slow path of :func:`_tokenize_sparse` for rows with quoted values."""
    rows, cols, values, quoted = [], [], [], []
    for position, (text, lineno) in enumerate(zip(inner, linenos, strict=True)):
        pos = 0
        while pos < len(text):
            match = _SPARSE_ENTRY_RE.match(text, pos)
            if match is None:
                raise _error(
                    path, lineno, f"cannot read sparse entries from {text[pos : pos + 40]!r}."
                )
            index, value = match.group(1), match.group(2)
            if not index.isdigit() or int(index) >= n_attributes:
                raise _error(
                    path,
                    lineno,
                    f"sparse index {index!r} is not an attribute index in [0, {n_attributes}).",
                )
            is_quoted = value[:1] in ("'", '"')
            rows.append(position)
            cols.append(int(index))
            values.append(_unescape(value[1:-1]) if is_quoted else value)
            quoted.append(is_quoted)
            pos = match.end()
    return (
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(values, dtype=str),
        np.array(quoted, dtype=bool),
    )


def _raw_values(attributes, cols, tokens, quoted, rows, linenos, path):
    """Raw float of each token given its attribute: number, nominal index or NaN."""
    kinds = np.array([a.kind for a in attributes])
    kind = kinds[cols]
    raw = np.zeros(len(tokens), dtype=np.float64)
    missing = (tokens == "?") & ~quoted

    numeric = np.flatnonzero((kind == NUMERIC) & ~missing)
    if numeric.size:
        try:
            raw[numeric] = tokens[numeric].astype(np.float64)
        except ValueError:
            for k in numeric:
                try:
                    float(tokens[k])
                except ValueError:
                    raise _error(
                        path,
                        linenos[rows[k]],
                        f"cannot read {str(tokens[k])!r} as a number for numeric attribute "
                        f"{attributes[cols[k]].name!r}; the file is corrupt.",
                    ) from None
        # float() reads "inf", "nan" and overflows ("1e400") without a word; ARFF's only
        # missing value is "?", so any other non-finite number is a corrupt value.
        finite = np.isfinite(raw[numeric])
        if not finite.all():
            k = numeric[np.flatnonzero(~finite)[0]]
            raise _error(
                path,
                linenos[rows[k]],
                f"value {str(tokens[k])!r} of numeric attribute {attributes[cols[k]].name!r} is "
                f"not a finite number (it reads as {raw[k]}); write '?' for a missing value.",
            )

    nominal = np.flatnonzero((kind == NOMINAL) & ~missing)
    if nominal.size:
        uniques, inverse = np.unique(tokens[nominal], return_inverse=True)
        pairs = cols[nominal] * len(uniques) + inverse.ravel()
        unique_pairs, pair_inverse = np.unique(pairs, return_inverse=True)
        codes = np.empty(len(unique_pairs))
        lookups = {}
        for k, pair in enumerate(unique_pairs):
            col, value = divmod(int(pair), len(uniques))
            lookup = lookups.get(col)
            if lookup is None:
                lookup = lookups[col] = {v: i for i, v in enumerate(attributes[col].values)}
            code = lookup.get(str(uniques[value]))
            if code is None:
                first = nominal[np.flatnonzero(pairs == pair)[0]]
                raise _error(
                    path,
                    linenos[rows[first]],
                    f"value {str(uniques[value])!r} is not among the declared values "
                    f"{{{','.join(attributes[col].values)}}} of attribute "
                    f"{attributes[col].name!r}.",
                )
            codes[k] = code
        raw[nominal] = codes[pair_inverse.ravel()]
    raw[missing] = np.nan
    return raw


def read_arff(path):
    """Read an ARFF file (dense or sparse rows, optionally gzip-compressed).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    table : ArffTable
        The attributes and the raw table (see the module docstring). ``raw`` is dense when
        every row is dense, else the coordinates of the non-zero raw values.

    Raises
    ------
    ValueError
        Naming the file and the line, on any syntax error, a row with the wrong number of
        values, an unknown nominal value, a non-numeric value of a numeric attribute, or a
        truncated or corrupt file.
    """
    path = str(path)
    data = _read_bytes(path)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _error(
            path,
            data.count(b"\n", 0, nul) + 1,
            f"NUL byte at byte {nul}{' of the decompressed data' if _is_gzip(path) else ''}: "
            "this is not a text ARFF file (binary, UTF-16 or corrupt).",
        )
    text = _decode(data)
    lines = text.split("\n")
    relation, attributes, data_start = _parse_header(lines, path)
    n_attributes = len(attributes)

    texts, linenos = [], []
    for i in range(data_start, len(lines)):
        stripped = lines[i].strip()
        if stripped and stripped[0] != "%":
            texts.append(stripped)
            linenos.append(i + 1)
    linenos = np.array(linenos, dtype=np.int64)
    n_rows = len(texts)
    is_sparse = np.fromiter((t[0] == "{" for t in texts), dtype=bool, count=n_rows)

    dense_rows = np.flatnonzero(~is_sparse)
    tokens, quoted = _tokenize_dense(
        [texts[i] for i in dense_rows], linenos[dense_rows], n_attributes, path
    )
    d_rows = np.repeat(dense_rows, n_attributes)
    d_cols = np.tile(np.arange(n_attributes), len(dense_rows))
    d_raw = _raw_values(attributes, d_cols, tokens, quoted, d_rows, linenos, path)

    if not is_sparse.any():
        raw = d_raw.reshape(n_rows, n_attributes)
        return ArffTable(path, relation, attributes, raw, n_rows, linenos, sparse=False)

    sparse_rows = np.flatnonzero(is_sparse)
    s_pos, s_cols, s_tokens, s_quoted = _tokenize_sparse(
        [texts[i] for i in sparse_rows], linenos[sparse_rows], n_attributes, path
    )
    s_rows = sparse_rows[s_pos]
    s_raw = _raw_values(attributes, s_cols, s_tokens, s_quoted, s_rows, linenos, path)

    keys = s_rows * n_attributes + s_cols
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(np.diff(keys[order]) == 0)
    if repeated.size:
        k = order[repeated[0]]
        raise _error(path, linenos[s_rows[k]], f"sparse index {s_cols[k]} appears twice.")

    keep = d_raw != 0  # raw 0 is what an omitted sparse entry means, for every type
    rows = np.concatenate([d_rows[keep], s_rows])
    cols = np.concatenate([d_cols[keep], s_cols])
    values = np.concatenate([d_raw[keep], s_raw])
    nonzero = values != 0
    raw = (rows[nonzero], cols[nonzero], values[nonzero])
    return ArffTable(path, relation, attributes, raw, n_rows, linenos, sparse=True)


def nominal_lookup(values):
    """Codes of the values of a nominal attribute with at most two values.

    The values are coded by meaning when they read as a truth value ({0,1}, {NO,YES},
    {FALSE,TRUE}, ...), in declaration order otherwise (first 0, second 1).
    """
    lowered = [v.lower() for v in values]
    if all(v in _TRUE_VALUES or v in _FALSE_VALUES for v in lowered) and len(
        set(v in _TRUE_VALUES for v in lowered)
    ) == len(values):
        return np.array([1.0 if v in _TRUE_VALUES else 0.0 for v in lowered])
    return np.arange(len(values), dtype=np.float64)


def _column_plan(attributes, label_names, path):
    """Output columns of each attribute: its role, names and how to code raw values."""
    by_name = {}
    for index, attribute in enumerate(attributes):
        by_name.setdefault(attribute.name, index)
    label_index = []
    for name in label_names:
        if name not in by_name:
            raise ValueError(
                f"{path}: label {name!r} (from the label XML file) is not an attribute of "
                "the ARFF file."
            )
        label_index.append(by_name[name])
    labels = set(label_index)
    for index in label_index:
        attribute = attributes[index]
        if attribute.kind not in (NUMERIC, NOMINAL) or (
            attribute.kind == NOMINAL and len(attribute.values) > 2
        ):
            raise _error(
                path,
                attribute.lineno,
                f"label {attribute.name!r} must be numeric 0/1 or nominal with two values.",
            )
    features = []
    dropped = []
    for index, attribute in enumerate(attributes):
        if index in labels:
            continue
        if attribute.kind in (STRING, DATE) or is_identifier(attribute):
            dropped.append(attribute.name)
        else:
            features.append(index)
    return label_index, features, dropped


def _encode_dense(raw_column, attribute):
    """Encoded columns (n, k) of one attribute from its raw dense column."""
    if attribute.kind == NUMERIC:
        return raw_column[:, None]
    k = len(attribute.values)
    missing = np.isnan(raw_column)
    codes = np.where(missing, 0, raw_column).astype(np.intp)
    if k <= 2:
        out = nominal_lookup(attribute.values)[codes] if k else np.zeros(len(codes))
        return np.where(missing, np.nan, out)[:, None]
    out = (codes[:, None] == np.arange(k)).astype(np.float64)
    out[missing] = np.nan
    return out


def _is_plain(attribute):
    """Whether the encoded column equals the raw one (numeric, or nominal coded 0, 1)."""
    if attribute.kind == NUMERIC:
        return True
    k = len(attribute.values)
    return k <= 2 and np.array_equal(nominal_lookup(attribute.values), np.arange(k))


def _width(attribute):
    return len(attribute.values) if attribute.kind == NOMINAL and len(attribute.values) > 2 else 1


def _names(attribute):
    if _width(attribute) == 1:
        return [attribute.name]
    return [f"{attribute.name}={value}" for value in attribute.values]


def encode_attributes(table, label_names):
    """Features and labels of a raw ARFF table.

    Encoding of the feature attributes:

    * numeric (``numeric``, ``real``, ``integer``): the value, NaN where missing (``?``);
    * nominal with at most two values: one column. Values that read as a truth value
      ({0,1}, {NO,YES}, {FALSE,TRUE}, {N,Y}, ...; any order, any case) are coded 1 for
      true, 0 for false; other pairs are coded by declaration order (first 0, second 1);
    * nominal with more values: one-hot, one column ``"name=value"`` per declared value
      (NaN in all of them where missing);
    * dropped: ``string`` and ``date`` attributes, and identifiers: nominal attributes
      with more than two values named like an identifier (see :func:`is_identifier`;
      genbase's ``protein`` is one). Two-valued attributes are never dropped by name.

    Labels are the attributes named in ``label_names``, in that order (selected by name,
    wherever they are in the file); each must encode to {0, 1} in one column.

    Parameters
    ----------
    table : ArffTable
    label_names : list of str

    Returns
    -------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_rows, n_features), float64
        Sparse when the file has sparse rows.
    Y : ndarray of shape (n_rows, n_labels), int64
    feature_names : list of str
    dropped : list of str
        Names of the attributes that were dropped.
    """
    attributes, path = table.attributes, table.path
    label_index, features, dropped = _column_plan(attributes, label_names, path)
    feature_names = [name for a in features for name in _names(attributes[a])]
    widths = np.array([_width(attributes[a]) for a in features], dtype=np.intp)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.intp)
    n_out = int(widths.sum())
    n = table.n_rows

    if not table.sparse:
        raw = table.raw
        X = np.empty((n, n_out), dtype=np.float64)
        plain = np.array([_is_plain(attributes[a]) for a in features], dtype=bool)
        plain_attrs = np.array(features, dtype=np.intp)[plain]
        X[:, starts[plain]] = raw[:, plain_attrs]
        for position in np.flatnonzero(~plain):
            attribute = attributes[features[position]]
            start = starts[position]
            X[:, start : start + widths[position]] = _encode_dense(
                raw[:, features[position]], attribute
            )
        label_raw = raw[:, label_index]
        label_rows = np.arange(n)
        Y = (
            np.column_stack(
                [
                    _encode_dense(label_raw[:, j], attributes[a])[:, 0]
                    for j, a in enumerate(label_index)
                ]
            )
            if label_index
            else np.empty((n, 0))
        )
    else:
        rows, cols, values = table.raw
        # Entries grouped by attribute once, so that each attribute costs its own entries.
        order = np.argsort(cols, kind="stable")
        bounds = np.searchsorted(cols[order], np.arange(len(attributes) + 1))

        def entries(a):
            return order[bounds[a] : bounds[a + 1]]

        X = _encode_sparse(rows, values, attributes, features, starts, widths, entries, n)
        Y = np.empty((n, len(label_index)))
        for j, a in enumerate(label_index):
            Y[:, j] = _encode_dense(np.zeros(1), attributes[a])[0, 0]  # omitted: raw 0
            idx = entries(a)
            Y[rows[idx], j] = _encode_dense(values[idx], attributes[a])[:, 0]
        label_rows = np.arange(n)

    bad = ~np.isin(Y, (0.0, 1.0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise _error(
            path,
            table.linenos[label_rows[i]],
            f"label {label_names[j]!r} has value {Y[i, j]!r}; labels must be 0 or 1.",
        )
    return X, Y.astype(np.int64), feature_names, dropped


def _encode_sparse(rows, values, attributes, features, starts, widths, entries, n):
    """CSR features from the raw non-zero entries, ``entries(a)`` being attribute a's.

    Writes out the entries an omitted value implies where its code is not 0 (a {YES,NO}
    attribute, or the first column of a one-hot block).
    """
    out_rows, out_cols, out_values = [], [], []
    for position, a in enumerate(features):
        attribute, start = attributes[a], starts[position]
        idx = entries(a)
        if _is_plain(attribute):
            out_rows.append(rows[idx])
            out_cols.append(np.full(len(idx), start))
            out_values.append(values[idx])
            continue
        encoded = _encode_dense(values[idx], attribute)
        for offset in range(widths[position]):
            column = encoded[:, offset]
            keep = column != 0  # NaN is kept
            out_rows.append(rows[idx][keep])
            out_cols.append(np.full(int(keep.sum()), start + offset))
            out_values.append(column[keep])
        default = _encode_dense(np.zeros(1), attribute)[0]
        if np.any(default != 0):
            absent = np.setdiff1d(np.arange(n), rows[idx])
            for offset in np.flatnonzero(default != 0):
                out_rows.append(absent)
                out_cols.append(np.full(len(absent), start + offset))
                out_values.append(np.full(len(absent), default[offset]))
    n_out = int(np.sum(widths))
    if not out_rows:
        return sp.csr_matrix((n, n_out), dtype=np.float64)
    X = sp.csr_matrix(
        (np.concatenate(out_values), (np.concatenate(out_rows), np.concatenate(out_cols))),
        shape=(n, n_out),
        dtype=np.float64,
    )
    X.sort_indices()
    return X
