"""Sentence templates with typed slots, matched against a whole utterance.

The syntax follows Home Assistant's hassil: words, ``(a|b)`` alternatives, ``[optional]``
parts, ``<rule>`` references and ``{slot}`` or ``{name:type}`` slots. Unlike hassil's
wildcards, a slot here has a type whose parser must read its whole span ("{quantity}" is a
number and a unit), so a template matches only when every word is accounted for.
Commas are skipped between words; a list slot may read them.

Speed: the parts of a template without slots are expanded, when compiled, into the set of
word sequences they allow (read through a trie), and a template is only tried on an
utterance that has every word the template always needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import TypeVar

Bindings = tuple[tuple[str, object], ...]
Parser = Callable[[Sequence[str]], object | None]
_K = TypeVar("_K")
_MAX_PHRASES = 3000  # beyond this a part stays a tree of alternatives


@dataclass(frozen=True)
class SlotType:
    """Reads a span of tokens into a value (None: not this type); spans are tried longest
    first, up to ``max_tokens``, and only where ``starts`` accepts the first token."""

    parse: Parser
    max_tokens: int = 12
    starts: Callable[[str], bool] | None = None


class _Match:
    """One utterance being matched: its tokens and the slot values parsed so far."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = tuple(tokens)
        self.words = frozenset(tokens)
        self._parsed: dict[tuple[str, int, int], object | None] = {}

    def skip(self, pos: int) -> int:
        while pos < len(self.tokens) and self.tokens[pos] == ",":
            pos += 1
        return pos

    def parse(self, name: str, kind: SlotType, start: int, end: int) -> object | None:
        key = (name, start, end)
        if key not in self._parsed:
            self._parsed[key] = kind.parse(self.tokens[start:end])
        return self._parsed[key]


# --- the compiled tree -----------------------------------------------------------------
class _Node:
    def match(self, m: _Match, pos: int, bound: Bindings) -> Iterator[tuple[int, Bindings]]:
        raise NotImplementedError


@dataclass(frozen=True)
class _Seq(_Node):
    items: tuple[_Node, ...]

    def match(self, m, pos, bound):
        return self._from(0, m, pos, bound)

    def _from(self, k, m, pos, bound):
        if k == len(self.items):
            yield pos, bound
            return
        for end, more in self.items[k].match(m, pos, bound):
            yield from self._from(k + 1, m, end, more)


@dataclass(frozen=True)
class _Alt(_Node):
    options: tuple[_Node, ...]

    def match(self, m, pos, bound):
        for option in self.options:
            yield from option.match(m, pos, bound)


_END = ""  # marks the end of a phrase in a trie


class _Words(_Node):
    """A fixed set of word sequences (possibly the empty one), read through a trie; the
    longest reading comes first (an optional word is taken when it is there)."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]):
        self.phrases = frozenset(phrases)
        self._trie: dict[str, dict] | None = None  # built when first needed

    def match(self, m, pos, bound):
        if self._trie is None:
            self._trie = self._build()
        ends = [pos] if _END in self._trie else []
        level = self._trie
        while level:
            pos = m.skip(pos)
            if pos >= len(m.tokens) or (level := level.get(m.tokens[pos])) is None:
                break
            pos += 1
            if _END in level:
                ends.append(pos)
        for end in reversed(ends):
            yield end, bound

    def _build(self) -> dict[str, dict]:
        trie: dict[str, dict] = {}
        for phrase in self.phrases:
            level = trie
            for word in phrase:
                level = level.setdefault(word, {})
            level[_END] = {}
        return trie


@dataclass(frozen=True)
class _Slot(_Node):
    name: str
    type_name: str
    kind: SlotType = field(compare=False)

    def match(self, m, pos, bound):
        pos = m.skip(pos)
        starts = self.kind.starts
        if pos < len(m.tokens) and starts is not None and not starts(m.tokens[pos]):
            return
        for end in range(min(len(m.tokens), pos + self.kind.max_tokens), pos, -1):
            value = m.parse(self.type_name, self.kind, pos, end)
            if value is not None:
                yield end, (*bound, (self.name, value))


def _simplify(node: _Node) -> _Node:
    """Slot-free parts become word sets, bottom-up; neighbours in a sequence merge while
    the set stays small."""
    if isinstance(node, _Alt):
        options = [_simplify(option) for option in node.options]
        if all(isinstance(option, _Words) for option in options):
            union = frozenset().union(*(o.phrases for o in options if isinstance(o, _Words)))
            if len(union) <= _MAX_PHRASES:
                return _Words(union)
        return _Alt(tuple(options))
    if isinstance(node, _Seq):
        items: list[_Node] = []
        for item in map(_simplify, node.items):
            last = items[-1] if items else None
            if (
                isinstance(item, _Words)
                and isinstance(last, _Words)
                and len(last.phrases) * len(item.phrases) <= _MAX_PHRASES
            ):
                items[-1] = _Words({a + b for a, b in product(last.phrases, item.phrases)})
            else:
                items.append(item)
        if not items:
            return _Words({()})
        return items[0] if len(items) == 1 else _Seq(tuple(items))
    return node


def _required(node: _Node) -> frozenset[str]:
    """Words every match of ``node`` contains."""
    if isinstance(node, _Words):
        return frozenset.intersection(*map(frozenset, node.phrases))
    if isinstance(node, _Seq):
        return frozenset().union(*map(_required, node.items))
    if isinstance(node, _Alt):
        return frozenset.intersection(*map(_required, node.options))
    return frozenset()


@dataclass(frozen=True)
class Template:
    """A compiled template, and the words an utterance needs for it to be tried."""

    root: _Node
    needs: frozenset[str]


# --- compiling ---------------------------------------------------------------------------
_SYNTAX = re.compile(r"\{[^}]*\}|<[^>]*>|[()\[\]|]|[^\s()\[\]|{}<>]+")


class Grammar:
    """Compiles templates (once, at start-up) and matches them against tokens."""

    def __init__(
        self,
        rules: Mapping[str, str],
        types: Mapping[str, SlotType],
        tokenize: Callable[[str], Sequence[str]],
    ):
        self._rules_text = rules
        self._types = types
        self._tokenize = tokenize
        self._rules: dict[str, _Node] = {}

    def compile(self, template: str) -> Template:
        root = _simplify(self._parse(template))
        return Template(root, _required(root))

    def matches(
        self, templates: Iterable[tuple[_K, Template]], tokens: Sequence[str]
    ) -> Iterator[tuple[_K, dict[str, object]]]:
        """Each (key, slots) of a template that reads the whole of ``tokens``, templates in
        the order given; slot values are parsed once per span for all templates."""
        m = _Match(tokens)
        for key, template in templates:
            if not template.needs <= m.words:
                continue
            for end, bound in template.root.match(m, 0, ()):
                if m.skip(end) == len(m.tokens):
                    yield key, dict(bound)

    def _parse(self, template: str) -> _Node:
        parts = _SYNTAX.findall(template)
        node, at = self._sequence(parts, 0, template)
        if at != len(parts):
            raise ValueError(f"unbalanced brackets in template {template!r}")
        return node

    def _sequence(self, parts: list[str], at: int, template: str) -> tuple[_Node, int]:
        """Alternatives of sequences, up to a closing bracket."""
        options: list[_Node] = []
        items: list[_Node] = []
        while at < len(parts) and parts[at] not in (")", "]"):
            part = parts[at]
            if part == "|":
                options.append(_Seq(tuple(items)))
                items, at = [], at + 1
            elif part in ("(", "["):
                inner, at = self._sequence(parts, at + 1, template)
                closing = ")" if part == "(" else "]"
                if at >= len(parts) or parts[at] != closing:
                    raise ValueError(f"unbalanced brackets in template {template!r}")
                items.append(inner if part == "(" else _Alt((inner, _Seq(()))))
                at += 1
            elif part.startswith("{"):
                name, _, type_name = part[1:-1].partition(":")
                type_name = type_name or name
                items.append(_Slot(name, type_name, self._types[type_name]))
                at += 1
            elif part.startswith("<"):
                items.append(self._rule(part[1:-1]))
                at += 1
            else:
                words = tuple(self._tokenize(part))
                items.append(_Words({words}))
                at += 1
        options.append(_Seq(tuple(items)))
        return (options[0] if len(options) == 1 else _Alt(tuple(options))), at

    def _rule(self, name: str) -> _Node:
        if name not in self._rules:
            self._rules[name] = _simplify(self._parse(self._rules_text[name]))
        return self._rules[name]
