"""Study specs (YAML in datasets/studies): published figures as data.

The spec language (docs/statistics.md, "Published figures"): a study names its sample (``n`` or
``n_range``, ``sample``), its figures and, optionally, ``relations`` between them. A figure has an
``expression`` (or ``variants``: several readings of one published value), a ``published`` share with its
``rounding`` (and ``rounding_mode``), or ``about: true`` with a ``tolerance``, or a ``bound``; a ``count``
("about 30 companies"); a ``where`` subgroup with the ``base`` figure that counts it; or a ``direction``
(group A has the outcome more often than group B).

Every spec is validated strictly: unknown keys, wrong types and impossible values are a
:class:`StudySpecError` naming the file, the figure, the field and the problem, never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chanaudit.analysis.expr import ExpressionError, names
from chanaudit.analysis.relations import Relation, RelationError, parse_relation
from chanaudit.analysis.rounding import ALIASES, CONVENTIONS, ShareRange, exact, share_range
from chanaudit.core.errors import ChanauditError
from chanaudit.datasets import ROOT

STUDIES = ROOT / "studies"
#: A spec is a small text file; anything larger is refused before parsing.
MAX_SPEC_BYTES = 1_000_000

#: Per-site fields derived from evidence.csv (see :mod:`chanaudit.analysis.evidence_fields`); an expression
#: naming one needs the evidence table.
EVIDENCE_FIELDS = ("form_request", "form_callback_only")


class StudySpecError(ChanauditError, ValueError):
    """A study spec that cannot be used; the message names the file, the figure and the field."""


@dataclass
class Direction:
    """``greater`` (group A) has the figure's outcome more often than ``than`` (group B)."""
    greater: str
    than: str
    label_greater_en: str = ""
    label_greater_ru: str = ""
    label_than_en: str = ""
    label_than_ru: str = ""


@dataclass
class Count:
    """A published count ("about 30 sites"): ``value``, exact unless ``about`` (then +- ``tolerance``)."""
    value: int
    about: bool = False
    tolerance: int = 0

    def allowed(self) -> range:
        return range(max(0, self.value - self.tolerance), self.value + self.tolerance + 1)


@dataclass
class Figure:
    id: str
    label_en: str
    label_ru: str
    published: float | None
    published_text: str = ""
    published_text_ru: str = ""
    rounding: float | None = None
    bound: str = ""
    where: str | None = None
    note: str = ""
    #: (variant id, label_en, label_ru, expression); one unnamed variant for plain figures
    variants: list[tuple[str, str, str, str]] = field(default_factory=list)
    rounding_mode: str = "half_up"
    about: bool = False
    tolerance: float | None = None
    count: Count | None = None
    #: the figure whose count is this ``where`` figure's denominator
    base: str | None = None
    #: the published sample size of this figure (a subgroup's), when it differs from the study's
    n_range: tuple[int, int] | None = None
    direction: Direction | None = None

    @property
    def comparable(self) -> bool:
        """Has a published share (or count) that the data can be compared with."""
        return self.direction is None and (self.published is not None or self.count is not None)

    def share_range(self, convention: str | None = None) -> ShareRange | None:
        """The shares the published value stands for (its rounding, "about" tolerance or bound); None without
        a published share."""
        if self.published is None:
            return None
        return share_range(self.published, self.rounding, convention or self.rounding_mode,
                           tolerance=self.tolerance if self.about else None, bound=self.bound)

    def allowed_counts(self, n: int, convention: str | None = None) -> list[int] | None:
        """Whole counts k of n that the figure allows: its share range and its published count together;
        None when the figure publishes neither a share nor a count."""
        if self.published is None and self.count is None:
            return None
        ks = self.share_range(convention).counts(n) if self.published is not None else range(0, n + 1)
        if self.count is not None:
            allowed = self.count.allowed()
            ks = [k for k in ks if k in allowed]
        return list(ks)


@dataclass
class Study:
    id: str
    title_en: str
    title_ru: str
    source: str
    sample: str
    data: str
    figures: list[Figure]
    path: Path
    #: the published sample size: (n, n) when the study gives n, (low, high) for a range, None when unknown
    n_range: tuple[int, int] | None = None
    sample_ru: str = ""
    relations: list[Relation] = field(default_factory=list)
    n_text: str = ""

    def figure(self, fid: str) -> Figure:
        for f in self.figures:
            if f.id == fid:
                return f
        raise StudySpecError(f"{self.path}: no figure {fid!r} (figures: {', '.join(self.figure_ids())})")

    def figure_ids(self) -> list[str]:
        return [f.id for f in self.figures]


def shipped() -> list[str]:
    return sorted(p.stem for p in STUDIES.glob("*.yaml"))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            dup = key in seen
        except TypeError:  # an unhashable key: let the constructor say so
            break
        if dup:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

STUDY_KEYS = {"id", "title_en", "title_ru", "source", "sample", "sample_ru", "data", "n", "n_range", "n_text",
              "rounding_mode", "figures", "relations", "note"}
FIGURE_KEYS = {"id", "label_en", "label_ru", "expression", "variants", "published", "published_text",
               "published_text_ru", "rounding", "rounding_mode", "bound", "about", "tolerance", "count", "where",
               "base", "n", "n_range", "note", "direction"}
VARIANT_KEYS = {"id", "label_en", "label_ru", "expression", "note"}
COUNT_KEYS = {"value", "about", "tolerance"}
DIRECTION_KEYS = {"greater", "than", "label_greater_en", "label_greater_ru", "label_than_en", "label_than_ru"}
RELATION_KEYS = {"id", "check", "reading", "note"}


def load_study(spec: str | Path) -> Study:
    """A shipped study id (``okdesk-2016-it-outsourcing``) or a path to a YAML spec."""
    path = Path(spec)
    if not path.is_file():
        path = STUDIES / f"{spec}.yaml"
    if not path.is_file():
        raise StudySpecError(f"{spec}: no such spec file or shipped study (shipped: {', '.join(shipped())})")
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_SPEC_BYTES:
            raise StudySpecError(f"{path}: {len(raw)} bytes; a study spec is at most {MAX_SPEC_BYTES}")
        data = yaml.load(raw.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except UnicodeDecodeError as exc:
        raise StudySpecError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{path}: not valid YAML: {exc}") from None
    except (RecursionError, MemoryError):
        raise StudySpecError(f"{path}: nested too deeply to be a study spec") from None
    except OSError as exc:
        raise StudySpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_study(data, path)


# --- validation helpers: every problem names where it is ---------------------------------------------------

def _fail(where: str, problem: str):
    raise StudySpecError(f"{where}: {problem}")


def _keys(obj: dict, allowed: set[str], where: str) -> None:
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        shown = ", ".join(repr(k) if not isinstance(k, str) else k for k in unknown)
        _fail(where, f"unknown field {shown} (allowed: {', '.join(sorted(allowed))})")


def _str(obj: dict, key: str, where: str, default: str | None = "", required: bool = False) -> str | None:
    if key not in obj or obj[key] is None:
        if required:
            _fail(where, f"{key}: missing")
        return default
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        _fail(where, f"{key}: must be text, not {type(value).__name__}")
    return str(value)


def _number(obj: dict, key: str, where: str, low: float = 0.0, high: float = 1.0, low_open: bool = False):
    if key not in obj or obj[key] is None:
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _fail(where, f"{key}: must be a number, not {value!r}")
    if value < low or value > high or (low_open and value == low):
        hint = " (a share: 0.96, not 96)" if key == "published" and 1 < value <= 100 else ""
        _fail(where, f"{key}: {value} is outside {'(' if low_open else '['}{low}, {high}]{hint}")
    return float(value)


def _int(value, where: str, key: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, f"{key}: must be a whole number, not {value!r}")
    if value < low:
        _fail(where, f"{key}: {value} is below {low}")
    return int(value)


def _bool(obj: dict, key: str, where: str) -> bool:
    value = obj.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        _fail(where, f"{key}: must be true or false, not {value!r}")
    return value


def _n_range(obj: dict, where: str) -> tuple[int, int] | None:
    if obj.get("n") is not None and obj.get("n_range") is not None:
        _fail(where, "give n or n_range, not both")
    if obj.get("n") is not None:
        n = _int(obj["n"], where, "n", 1)
        return n, n
    if obj.get("n_range") is None:
        return None
    value = obj["n_range"]
    if not isinstance(value, list) or len(value) != 2:
        _fail(where, f"n_range: must be [low, high], not {value!r}")
    low, high = _int(value[0], where, "n_range", 1), _int(value[1], where, "n_range", 1)
    if low > high:
        _fail(where, f"n_range: low {low} is above high {high}")
    return low, high


def _expression(expr, where: str, key: str) -> str:
    if not isinstance(expr, str) or not expr.strip():
        _fail(where, f"{key}: must be a non-empty expression, not {expr!r}")
    try:
        names(expr)
    except ExpressionError as exc:
        _fail(where, f"{key}: {exc}")
    return expr


def _mode(obj: dict, where: str, default: str) -> str:
    value = obj.get("rounding_mode", default)
    key = ALIASES.get(value, value) if isinstance(value, str) else value
    if key not in CONVENTIONS:
        _fail(where, f"rounding_mode: {value!r} is not one of {', '.join(CONVENTIONS)}")
    return key


def parse_study(data, path: Path) -> Study:
    """Validate a loaded spec (a mapping) and build the :class:`Study`."""
    where = str(path)
    if data is None:
        _fail(where, "empty spec")
    if not isinstance(data, dict):
        _fail(where, f"the top level must be a mapping of fields, not {type(data).__name__}")
    _keys(data, STUDY_KEYS, where)
    kind = _str(data, "data", where, "audit")
    if kind not in ("audit", "survey"):
        _fail(where, f"data: must be audit or survey, not {kind!r}")
    mode = _mode(data, where, "half_up")
    raw_figures = data.get("figures")
    if not isinstance(raw_figures, list) or not raw_figures:
        _fail(where, "figures: must be a non-empty list of figures")
    figures, seen = [], set()
    for i, raw in enumerate(raw_figures, start=1):
        fig = _figure(raw, i, where, mode)
        if fig.id in seen:
            _fail(f"{where}: figure {fig.id}", "id: given to two figures")
        seen.add(fig.id)
        figures.append(fig)
    by_id = {f.id: f for f in figures}
    for fig in figures:
        if fig.base is not None:
            fw = f"{where}: figure {fig.id}"
            if fig.where is None:
                _fail(fw, "base: only a where: figure has a base")
            base = by_id.get(fig.base)
            if base is None or base.id == fig.id:
                _fail(fw, f"base: {fig.base!r} is not another figure of this study")
            if base.where is not None or not base.comparable:
                _fail(fw, f"base: figure {fig.base} must be a whole-sample figure with a published value")
    relations = _relations(data.get("relations"), where, by_id)
    study_id = _str(data, "id", where, path.stem)
    return Study(study_id, _str(data, "title_en", where), _str(data, "title_ru", where), _str(data, "source", where),
                 _str(data, "sample", where), kind, figures, path, _n_range(data, where),
                 _str(data, "sample_ru", where), relations, _str(data, "n_text", where))


def _figure(raw, i: int, study_where: str, mode: str) -> Figure:
    if not isinstance(raw, dict):
        _fail(f"{study_where}: figure {i}", f"must be a mapping of fields, not {type(raw).__name__}")
    fid = raw.get("id")
    where = f"{study_where}: figure {fid if isinstance(fid, str) and fid else i}"
    if not isinstance(fid, str) or not fid.strip():
        _fail(where, "id: missing or not text")
    _keys(raw, FIGURE_KEYS, where)
    variants = []
    raw_variants = raw.get("variants")
    if raw_variants is not None:
        if not isinstance(raw_variants, list) or not raw_variants:
            _fail(where, "variants: must be a non-empty list")
        if "expression" in raw:
            _fail(where, "give expression or variants, not both")
        ids = set()
        for j, v in enumerate(raw_variants, start=1):
            vw = f"{where}: variant {v.get('id', j) if isinstance(v, dict) else j}"
            if not isinstance(v, dict):
                _fail(vw, f"must be a mapping with id and expression, not {type(v).__name__}")
            _keys(v, VARIANT_KEYS, vw)
            vid = _str(v, "id", vw, required=True)
            if vid in ids:
                _fail(vw, "id: given to two variants")
            ids.add(vid)
            variants.append((vid, _str(v, "label_en", vw, vid), _str(v, "label_ru", vw, vid),
                             _expression(v.get("expression"), vw, "expression")))
    else:
        if raw.get("expression") is None:
            _fail(where, "no expression and no variants")
        variants = [("", "", "", _expression(raw["expression"], where, "expression"))]
    where_expr = _expression(raw["where"], where, "where") if raw.get("where") is not None else None
    published = _number(raw, "published", where)
    rounding = _number(raw, "rounding", where, 0.0, 1.0, low_open=True)
    bound = raw.get("bound", "") or ""
    if bound not in ("", ">", "<", ">=", "<="):
        _fail(where, f"bound: must be one of > < >= <=, not {bound!r}")
    about = _bool(raw, "about", where)
    tolerance = _number(raw, "tolerance", where)
    if tolerance is not None and not about:
        _fail(where, "tolerance: only an about: true figure has a tolerance")
    if about and tolerance is None:
        if rounding is None:
            _fail(where, "about: true needs a tolerance (or a rounding, taken as the tolerance)")
        tolerance = rounding
    if (bound or about or rounding) and published is None:
        _fail(where, "rounding, bound and about describe a published value: give published")
    if bound and (rounding or about):
        _fail(where, "a bound (more than / less than) has no rounding or tolerance")
    if published is not None and rounding and not about:
        steps = exact(published) / exact(rounding)
        if steps.denominator != 1:
            _fail(where, f"published {published} is not a multiple of rounding {rounding}")
    count = _count(raw.get("count"), where)
    direction = _direction(raw.get("direction"), where)
    if direction is not None and (published is not None or count is not None):
        _fail(where, "direction: a directional figure has no published value or count (only published_text)")
    if direction is not None and raw_variants is not None:
        _fail(where, "direction: a directional figure has one expression, not variants")
    text_en = _str(raw, "published_text", where)
    return Figure(fid, _str(raw, "label_en", where, fid), _str(raw, "label_ru", where, fid), published, text_en,
                  _str(raw, "published_text_ru", where, text_en), rounding, bound, where_expr,
                  _str(raw, "note", where), variants, _mode(raw, where, mode), about, tolerance, count,
                  _str(raw, "base", where, None), _n_range(raw, where), direction)


def _count(raw, where: str) -> Count | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        _keys(raw, COUNT_KEYS, f"{where}: count")
        if "value" not in raw:
            _fail(where, "count: value missing")
        value = _int(raw["value"], where, "count.value")
        about = _bool(raw, "about", f"{where}: count")
        tol = _int(raw.get("tolerance", 0), where, "count.tolerance") if raw.get("tolerance") is not None else 0
        if tol and not about:
            _fail(where, "count: tolerance only for about: true")
        if about and not tol:
            _fail(where, "count: about: true needs a tolerance (how many either side)")
        return Count(value, about, tol)
    return Count(_int(raw, where, "count"))


def _direction(raw, where: str) -> Direction | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _fail(where, f"direction: must be a mapping with greater and than, not {type(raw).__name__}")
    _keys(raw, DIRECTION_KEYS, f"{where}: direction")
    dw = f"{where}: direction"
    greater = _expression(raw.get("greater"), dw, "greater")
    than = _expression(raw.get("than"), dw, "than")
    return Direction(greater, than, _str(raw, "label_greater_en", dw, greater), _str(raw, "label_greater_ru", dw, greater),
                     _str(raw, "label_than_en", dw, than), _str(raw, "label_than_ru", dw, than))


def _relations(raw, where: str, by_id: dict[str, Figure]) -> list[Relation]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        _fail(where, "relations: must be a list")
    out, ids = [], set()
    for i, r in enumerate(raw, start=1):
        if isinstance(r, str):
            r = {"check": r}
        rid = r.get("id", i) if isinstance(r, dict) else i
        rw = f"{where}: relation {rid}"
        if not isinstance(r, dict):
            _fail(rw, f"must be a mapping (id, check, reading) or a string, not {type(r).__name__}")
        _keys(r, RELATION_KEYS, rw)
        rid = _str(r, "id", rw, f"relation_{i}")
        if rid in ids:
            _fail(rw, "id: given to two relations")
        ids.add(rid)
        reading = None
        if r.get("reading") is not None:
            text = _str(r, "reading", rw)
            fid, _, vid = text.partition(".")
            fig = by_id.get(fid)
            if fig is None or vid not in [v[0] for v in fig.variants if v[0]]:
                _fail(rw, f"reading: {text!r} is not figure.variant of this study")
            reading = (fid, vid)
        try:
            rel = parse_relation(r.get("check"), rid, reading, _str(r, "note", rw))
        except RelationError as exc:
            _fail(rw, f"check: {exc}")
        for fid in sorted(rel.figures):
            fig = by_id.get(fid)
            if fig is None:
                _fail(rw, f"check: {fid!r} is not a figure of this study (figures: {', '.join(by_id)})")
            if fig.where is not None or fig.published is None or fig.bound:
                _fail(rw, f"check: figure {fid} must be a whole-sample figure with a published value "
                          "(not a where:, bound or directional figure)")
        out.append(rel)
    return out
