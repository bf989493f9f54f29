"""Read a spec file into plain Python data plus the line:col of every key and value.

PyYAML alone is not safe enough for a file that drives deletions: it keeps the last of two
duplicate keys, expands alias bombs and accepts binary junk. Here the file is composed into
nodes (no construction of arbitrary tags), checked, and converted by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import yaml11
from .problems import Problem, SpecError

MAX_DEPTH = 32
Path_ = tuple[str | int, ...]  # a path into the document: keys and list indexes


@dataclass
class Source:
    """Parsed document with positions. `values[path]` is where a value starts, `keys[path]`
    where its key is written (both 1-based line, col)."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # found while reading; more may follow
    scalar_lines: dict[Path_, tuple[int, int]] = field(default_factory=dict)  # first, last line

    def add(self, path: Path_, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(line, col, dotted(path), message, self.file))

    def path_at(self, line: int, col: int) -> Path_:
        """The innermost value written at (line, col): a scalar spanning it (block scalars
        run over several lines), else the last value starting before it on that line."""
        for path, (first, last) in self.scalar_lines.items():
            if first < line <= last:
                return path
        here = [(c, p) for p, (ln, c) in self.values.items() if ln == line and c <= col]
        return max(here, key=lambda item: (item[0], len(item[1])))[1] if here else ()

    def position(self, path: Path_, *, of_key: bool = False) -> tuple[int, int]:
        """Where `path` is written, falling back to its nearest written parent."""
        for depth in range(len(path), -1, -1):
            sub = path[:depth]
            first, second = (self.keys, self.values) if of_key else (self.values, self.keys)
            if sub in first:
                return first[sub]
            if sub in second:
                return second[sub]
        return (1, 1)


class _NoAliasComposer(yaml.SafeLoader):
    """Anchors and aliases are refused outright: they are the alias-bomb vector, and
    `defaults:` covers the sharing people use them for."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.depth >= MAX_DEPTH:  # PyYAML recurses per level: stop before Python does
            mark = event.start_mark
            raise _Refused(
                mark.line + 1,
                mark.column + 1,
                f"YAML nested more than {MAX_DEPTH} "
                "levels deep; a fleet spec never nests like that",
            )
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or anchor is not None:
            mark = event.start_mark
            raise _Refused(
                mark.line + 1,
                mark.column + 1,
                "YAML anchors and aliases are not "
                "supported here; put shared settings under `defaults:`",
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Invalid:
    """Stands in for a value already reported, so validation goes on to find the rest."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = _Invalid()


class _Refused(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def compose(text: str, name: str) -> yaml.Node:
    loader = None
    try:
        loader = _NoAliasComposer(text)  # its reader refuses control characters right here
        node = loader.get_single_node()
    except _Refused as exc:
        raise SpecError([Problem(exc.line, exc.col, "", exc.message, name)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "not valid YAML"
        if exc.context and exc.context.startswith("while") and exc.context_mark:
            # "while parsing a flow sequence": say where that began, often far above
            what += f" ({exc.context} that began at line {exc.context_mark.line + 1})"
        elif exc.context:
            what = f"{exc.context}, {what}"
        raise SpecError([Problem(line, col, "", f"YAML syntax error: {what}", name)]) from None
    except yaml.reader.ReaderError as exc:  # raised before any mark exists: place it here
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        message = f"{what} is a control character, which YAML text cannot hold; remove it"
        raise SpecError([Problem(line, col, "", message, name)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(1, 1, "", f"YAML syntax error: {exc}", name)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError([Problem(1, 1, "", "file has no YAML document", name)])
    return node


_SCALAR_BUILDERS: dict[str, Callable[[yaml.SafeLoader, yaml.Node], Any]] = {
    tag: builder
    for tag, builder in yaml.SafeLoader.yaml_constructors.items()
    if tag is not None
    and tag.startswith("tag:yaml.org,2002:")
    and tag.rsplit(":", 1)[1] in {"null", "bool", "int", "float", "str", "timestamp"}
}


_COLLECTION_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


def to_python(node: yaml.Node, path: Path_, source: Source) -> Any:
    source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    plain_tag = _COLLECTION_TAGS.get(type(node))
    if plain_tag is not None and node.tag != plain_tag:
        source.add(
            path,
            *source.values[path],
            f"YAML tag {node.tag} is not allowed here; write plain values",
        )
        return INVALID
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(key_node, yaml.ScalarNode) and (misread := yaml11.misread(key_node)):
                source.add(path, *where, f"keys must be plain text: {misread.for_key()}")
                continue
            key = _scalar(key_node, path, source) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                hint = (
                    f" (YAML reads `{key_node.value}` as {str(key).lower()}; quote it)"
                    if isinstance(key, bool) or key is None
                    else ""
                )
                source.add(path, *where, f"keys must be plain text{hint}")
                continue
            key = str(key)
            if key in result:
                first = source.keys[(*path, key)]
                source.add(
                    (*path, key),
                    *where,
                    f"duplicate key '{key}' (first written at "
                    f"line {first[0]}); YAML would silently keep only the last",
                )
                continue
            source.keys[(*path, key)] = where
            result[key] = to_python(value_node, (*path, key), source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [to_python(item, (*path, i), source) for i, item in enumerate(node.value)]
    return _scalar(node, path, source)


_TEXT_KEPT_AS_WRITTEN = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
}


def _is_env_value(path: Path_) -> bool:
    """`defaults.env.KEY` or `sandboxes.NAME.env.KEY`; not a sandbox that is named `env`."""
    return (len(path) == 3 and path[:2] == ("defaults", "env")) or (
        len(path) == 4 and path[0] == "sandboxes" and path[2] == "env"
    )


def _scalar(node: yaml.Node, path: Path_, source: Source) -> Any:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    source.scalar_lines[path] = (line, node.end_mark.line + 1)
    if _is_env_value(path):
        if node.tag in _TEXT_KEPT_AS_WRITTEN:
            # Env values end up as text in the container: keep what was written. YAML 1.1
            # would turn `3.10` into 3.1, `0755` into 493 and `on` into true.
            return str(node.value)
    elif isinstance(node, yaml.ScalarNode) and (misread := yaml11.misread(node)):
        source.add(path, line, col, misread.for_value())
        return INVALID
    builder = _SCALAR_BUILDERS.get(node.tag)
    if builder is None:
        source.add(path, line, col, f"YAML tag {node.tag} is not allowed here; write plain values")
        return INVALID
    try:
        return builder(yaml.SafeLoader(""), node)
    except (ValueError, OverflowError, yaml.YAMLError):
        if node.tag.endswith(":timestamp"):
            message = f"'{node.value}' is not a real date (use YYYY-MM-DD)"
        else:
            message = f"'{node.value}' cannot be read as {node.tag.rsplit(':', 1)[1]}"
        source.add(path, line, col, message)
        return INVALID


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


dotted = _dotted
