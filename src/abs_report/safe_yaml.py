"""Read a YAML file written by someone else, without trusting it.

A parameter file may come from anyone. Before any Python object is built:

- the file is at most :data:`MAX_BYTES` long (read no further, so a device or
  a huge file costs nothing);
- it is UTF-8; a bad byte is reported with its line and column;
- anchors and aliases are refused: a few lines of nested aliases ("billion
  laughs") would otherwise expand to gigabytes, and a parameter file never
  needs them (merge keys ``<<`` need them too, so they go with them);
- a key given twice in one mapping is refused, naming both lines (YAML keeps
  the last one silently);
- every string (keys and values) is free of control characters and of the
  bidirectional-text controls that make a text read differently from what it
  says. No exception: parameter texts are single lines.

What comes out is plain data (dicts, lists, strings, numbers), with the line
of every key path and the original source text of every scalar (``01001`` as
written, not the 513 YAML 1.1 reads).
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import InputError, Problem

MAX_BYTES = 64 * 1024
"""Largest parameter file accepted: a file listing every commune of a région fits."""
MAX_DEPTH = 10
NON_TEXT_KEY = "clé non textuelle (liste ou dictionnaire) refusée"
"""Deepest nesting of lists and mappings (a parameter file needs 4)."""
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidirectional marks, embeddings, overrides and isolates (Unicode TR 9)."""


@dataclass
class Document:
    """A parsed YAML document and where each of its parts was written."""

    data: object
    lines: dict[tuple, int] = field(default_factory=dict)
    """1-based line of every key path (``("territory", "code")``)."""
    source: dict[tuple, str] = field(default_factory=dict)
    """The text of every scalar value as written in the file, by key path."""
    problems: list[Problem] = field(default_factory=list)
    """Forbidden characters and repeated keys: reported with the schema's problems, all at once."""


def bad_character(text: str) -> str | None:
    """The first character a parameter text may not hold, or ``None``."""
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS:
            return char
    return None


class Shown(str):
    """An escaped text whose ``repr`` keeps the escapes single (``'a\\u001bb'``, not ``'a\\\\u001bb'``)."""

    def __repr__(self) -> str:
        return "'" + str.__str__(self).replace("'", "\\'") + "'"


def shown(text: str, limit: int = 80) -> str:
    """A string as it may be printed safely: every non-printable character escaped, cut at ``limit``."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return Shown("".join(c if c.isprintable() and c not in BIDI_CONTROLS else f"\\u{ord(c):04x}" for c in cut))


def read_text(path: Path) -> str:
    """The file's text, refusing a missing, oversize, non-UTF-8 or non-regular file."""
    name = str(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode) and not Path(path).is_dir():
            # A FIFO would block the open; a device is no parameter file.
            raise InputError(Problem(name, "un fichier de paramètres ordinaire est attendu"))
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(Problem(name, "fichier de paramètres introuvable")) from None
    except IsADirectoryError:
        raise InputError(Problem(name, "un fichier de paramètres est attendu, pas un dossier")) from None
    except OSError as exc:
        raise InputError(Problem(name, f"fichier de paramètres illisible ({exc.strerror})")) from None
    if len(raw) > MAX_BYTES:
        raise InputError(Problem(name, f"fichier de paramètres trop grand (plus de {MAX_BYTES // 1024} Kio)"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(Problem(name, f"le fichier n'est pas en UTF-8 : octet 0x{raw[exc.start]:02x} "
                                 f"invalide, colonne {column} ; enregistrez-le en UTF-8",
                                 line=line)) from None


def _problem(name: str, message: str, mark, path: tuple = (), value=None) -> Problem:
    return Problem(name, message, line=mark.line + 1 if mark else None,
                   field=shown(".".join(map(str, path)), 150) or None, value=value)


def _refuse_anchors(text: str, name: str) -> None:
    """Anchors, aliases and deep nesting are refused from the event stream, before any node is built.

    PyYAML's parser keeps its own stack; its composer recurses, so depth is bounded here.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputError(_problem(name, "ancres et alias YAML (&, *) non admis dans un fichier de "
                                      "paramètres", event.start_mark))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(_problem(name, f"imbrication trop profonde (plus de {MAX_DEPTH} niveaux)",
                                          event.start_mark))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _walk(node, path: tuple, doc: Document, text: str, name: str, problems: list[Problem]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        doc.source[path] = text[node.start_mark.index:node.end_mark.index]
        char = bad_character(node.value)
        if char is not None:
            problems.append(_problem(name, f"caractère interdit U+{ord(char):04X} (caractère de contrôle ou "
                                     "de direction du texte ; le texte doit tenir sur une ligne)",
                                     node.start_mark, path, shown(node.value)))
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if not isinstance(key, yaml.ScalarNode):
                problems.append(_problem(name, NON_TEXT_KEY,
                                         key.start_mark, path))
                continue
            if key.value in seen:
                problems.append(_problem(name, f"clé écrite deux fois (lignes {seen[key.value]} et {line}) : "
                                         "une seule est admise", key.start_mark, path + (key.value,)))
            seen.setdefault(key.value, line)
            child = path + (key.value,)
            doc.lines[child] = line
            if (char := bad_character(key.value)) is not None:
                problems.append(_problem(name, f"caractère interdit U+{ord(char):04X} dans une clé",
                                         key.start_mark, child, shown(key.value)))
            _walk(value, child, doc, text, name, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), doc, text, name, problems)


def load(path: Path) -> Document:
    """Parse a parameter file under the rules of this module.

    Raises
    ------
    InputError
        Naming the file, and the line and field of each problem found.
    """
    name = str(path)
    text = read_text(path)
    try:
        _refuse_anchors(text, name)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        # A raw control character in the file: the reader stops before any structure is known.
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(Problem(name, f"caractère interdit U+{exc.character:04X} (caractère de contrôle)",
                                 line=line)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(_problem(name, f"YAML invalide : {shown(str(problem))}", mark)) from None
    doc = Document(None)
    if root is None:
        return doc
    _walk(root, (), doc, text, name, doc.problems)
    hard = [p for p in doc.problems if p.message.startswith(NON_TEXT_KEY)]
    if hard:  # the document cannot even be built into a dictionary
        raise InputError(hard)
    loader = yaml.SafeLoader(text)
    try:
        doc.data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(_problem(name, f"YAML invalide : {shown(str(getattr(exc, 'problem', exc)))}",
                                  mark)) from None
    finally:
        loader.dispose()
    return doc
