"""One JSON document: an array of trades, or an object with a ``trades`` array (streamed).

Elements are decoded one at a time by the C scanner of ``json``. An element it cannot decode
(malformed, a NaN token, nested beyond the stack, an integer beyond Python's digit limit), that
nests deeper than the depth limit, or that is longer than the record limit, is rejected alone:
a bracket-counting scan finds where it ends, and the elements after it are read as usual. Only
a broken document structure (an unterminated array, junk between elements) rejects the whole
object — and so does more undecodable text than ``Limits.max_undecodable_bytes``: that scan
runs in Python, so it is the one cost a sender could otherwise inflate per byte.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from itertools import accumulate, count
from operator import indexOf, sub
from typing import TYPE_CHECKING, Any, Final

from processor.decode import CHUNK_RECORDS, Chunk, Rejection, record_into
from processor.direct import decode_records
from processor.errors import MalformedObjectError, ObjectTooLargeError
from processor.settings import Limits
from processor.strict import nested_deeper_than

if TYPE_CHECKING:
    from processor.ports import Source


__all__ = ["decode"]

BLOCK_CHARS: Final = 1 << 20
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
_IN_STRING: Final = re.compile(r'["\\]')
_FIRST_STRUCTURE: Final = re.compile(r"[\[\]{},]")
#: Bracket counting over UTF-8 bytes: an opening bracket is 2, a closing one 0, any other 1.
_DEPTH_CODES: Final = bytes(2 if c in b"[{" else 0 if c in b"]}" else 1 for c in range(256))
_PIECE: Final = 4096
_SUBPIECE: Final = 64


class _NotJsonError(ValueError):
    """A token json accepts but JSON does not (NaN, Infinity)."""


def _no_constants(name: str) -> Any:
    raise _NotJsonError(f"{name} is not a JSON value")


_DECODER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constants)


def _excerpt(text: str, limit: int = 1024) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _closing(piece: str, depth: int) -> int:
    """Index just past the character of ``piece`` (no strings in it) that brings ``depth``
    open brackets to zero, or -1; counted in C (``translate``, ``accumulate``, ``indexOf``)."""
    data = _utf8(piece)
    try:
        end = indexOf(map(sub, accumulate(data.translate(_DEPTH_CODES)), count(1)), -depth) + 1
    except ValueError:
        return -1
    return len(data[:end].decode("utf-8", "surrogateescape"))


def _close_in(buf: str, start: int, stop: int, depth: int) -> tuple[int, int]:
    """Where ``buf[start:stop]`` (no strings in it) brings ``depth`` open brackets back to
    zero (or -1), and the depth at ``stop`` otherwise. Stretches that cannot get there are
    passed by counting alone (pieces, then sub-pieces); only the last few are read closely."""
    size = _PIECE
    while start < stop:
        end = min(start + size, stop)
        closes = buf.count("]", start, end) + buf.count("}", start, end)
        if depth - closes <= 0:
            if size > _SUBPIECE:  # it may close in here: look again in smaller steps
                size = _SUBPIECE
                continue
            found = _closing(buf[start:end], depth)
            if found >= 0:
                return start + found, 0
        depth += buf.count("[", start, end) + buf.count("{", start, end) - closes
        start = end
    return -1, depth


def _first_bracket(buf: str, i: int, stop: int) -> tuple[int, int]:
    """Past the first opening bracket in ``buf[i:stop]`` (depth 1), or ``(-1 - end, 0)`` when
    a scalar element ends first (at ``end``: a , ] or }), or ``(i, 0)`` if neither shows."""
    match = _FIRST_STRUCTURE.search(buf, i, stop)
    if match is None:
        return i, 0
    if match.group() in ",]}":
        return -1 - match.start(), 0
    return match.end(), 1


class _Text:
    """The document's text, read block by block (bytes that are not UTF-8 become lone
    surrogates, which validation then rejects with the record holding them)."""

    def __init__(self, source: Source, limits: Limits) -> None:
        self._source, self._limits = source, limits
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.buf, self.pos, self._eof = "", 0, False
        self._dropped = 0  # characters before ``buf``: ``_dropped + pos`` is the position read
        self._skipped = 0  # characters of elements that could not be decoded

    def more(self) -> bool:
        """Append a block, dropping what lies before ``pos``; False at the end of input."""
        if self._eof:
            return False
        block = self._source.read(BLOCK_CHARS)
        self._eof = not block
        self.buf = self.buf[self.pos :] + self._decoder.decode(block, final=self._eof)
        self._dropped += self.pos
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), without taking it."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, allowed: str, index: int | None) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else "the end of input"
            raise MalformedObjectError(
                f"object: malformed JSON document, expected one of {allowed!r}, found {found}",
                index,
            )
        self.pos += 1
        return char

    def value(self) -> tuple[Any, str | None]:
        """The next value, or ``(excerpt, reason)`` when it cannot be one (then skipped)."""
        self.peek()
        limit, depth = self._limits.max_record_bytes, self._limits.max_depth
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except RecursionError:
                return self._skip(f"record is nested deeper than {depth} levels")
            except ValueError as err:  # JSONDecodeError, _NotJsonError, the digit limit
                if len(self.buf) - self.pos <= limit and self.more():
                    continue  # perhaps only cut off at the end of the block: read on
                message = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
                return self._skip(f"element is not valid JSON ({message})")
            text, self.pos = self.buf[self.pos : end], end
            if len(text) > limit:
                return _excerpt(text), f"element is longer than {limit} characters"
            if text.count("[") + text.count("{") > depth and nested_deeper_than(value, depth):
                self._charge(len(text))
                return _excerpt(text), f"record is nested deeper than {depth} levels"
            return value, None

    def _skip(self, reason: str) -> tuple[str, str]:
        """Move past an element that could not be decoded; keep its first characters."""
        start, excerpt = self._dropped + self.pos, self.buf[self.pos : self.pos + 1024]
        end, _ = self._end_of_element(self._limits.max_record_bytes)
        self._charge(self._dropped + end - start)
        self.pos = end
        return _excerpt(excerpt), reason

    def _charge(self, characters: int) -> None:
        """Count text that was costly to reject (undecodable, or decoded only to be too deep)."""
        self._skipped += characters
        if self._skipped > self._limits.max_undecodable_bytes:
            raise MalformedObjectError(
                f"object: more than {self._limits.max_undecodable_bytes} characters of array "
                "elements that are not valid JSON or nest too deep; allowed: at most "
                f"{self._limits.max_undecodable_bytes} per object"
            )

    def _end_of_element(self, limit: int) -> tuple[int, bool]:
        """Index just past the element at ``pos``, reading on as needed, and whether it is
        all in the buffer: past ``limit`` characters its text is dropped as it is scanned."""
        i, depth, in_string, whole = self.pos, 0, False, True
        while True:
            end, depth, in_string, i = self._scan(i, depth, in_string)
            if end >= 0:
                return end, whole
            if i - self.pos > limit:
                self.pos, whole = i, False  # too long: keep none of it
            offset = self.pos
            if not self.more():
                raise MalformedObjectError(
                    "object: malformed JSON document (an element runs to the end of input)"
                )
            i -= offset

    def _scan(self, i: int, depth: int, in_string: bool) -> tuple[int, int, bool, int]:
        """From ``i``: where the element ends (-1: not in this buffer), the open brackets,
        whether a string is open, and where to go on once more text is read."""
        buf = self.buf
        while True:
            if in_string:
                i = self._string_end(i)
                if i < 0:
                    return -1, depth, True, -i - 1
                in_string = False
                if depth == 0:  # the element was a string
                    return i, 0, False, i
                continue
            quote = buf.find('"', i)
            stop = len(buf) if quote < 0 else quote
            if depth == 0:  # before the element's first bracket: a scalar ends at , ] }
                i, depth = _first_bracket(buf, i, stop)
                if i < 0:
                    return -1 - i, 0, False, -1 - i
            if depth > 0:
                closed, depth = _close_in(buf, i, stop, depth)
                if closed >= 0:
                    return closed, 0, False, closed
            if quote < 0:
                return -1, depth, False, len(buf)
            i, in_string = quote + 1, True

    def _string_end(self, i: int) -> int:
        """Index just past the quote closing the string ``i`` is in; if it is not in the
        buffer, ``-1 - r`` where ``r`` is where to go on once more text is read."""
        buf = self.buf
        while True:
            match = _IN_STRING.search(buf, i)
            if match is None:
                return -1 - len(buf)
            if match.group() == '"':
                return match.end()
            if match.start() + 1 >= len(buf):  # the escaped character is not read yet
                return -1 - match.start()
            i = match.start() + 2


def _elements(text: _Text, first: int, limits: Limits) -> Iterator[Chunk]:
    """The elements of the array whose ``[`` is next."""
    text.expect("[", first)
    if text.peek() == "]":
        text.expect("]", first)
        return
    index, part, errors = first, [], []
    while True:
        if index >= limits.max_records:
            raise ObjectTooLargeError(
                f"object: more than {limits.max_records} array elements; allowed: at most "
                f"{limits.max_records} records per object (split the file)"
            )
        try:
            value, reason = text.value()
        except MalformedObjectError as err:
            raise MalformedObjectError(err.reason, index) from None
        if reason is not None:
            errors.append(Rejection(index, None, reason, value))
        part.append(value)
        index += 1
        last = text.expect(",]", index) == "]"
        if len(part) >= CHUNK_RECORDS or last:
            yield from _chunks(part, errors, index - len(part), limits)
            part, errors = [], []
        if last:
            return


def _chunks(
    part: list[Any], errors: list[Rejection], first: int, limits: Limits
) -> Iterator[Chunk]:
    """Chunks of elements; ``errors`` are those that could not be decoded (rejected as such)."""
    if not errors:
        yield from decode_records(part, first, limits.max_depth)
        return
    chunk = Chunk.empty()
    skipped = {r.index for r in errors}
    for offset, value in enumerate(part):
        if first + offset not in skipped:
            record_into(first + offset, value, chunk, limits.max_depth)
    chunk.rejections += errors
    yield chunk


def _wrapped(text: _Text, limits: Limits) -> Iterator[Chunk]:
    """The ``trades`` array of a top-level object (other keys are read and ignored)."""
    text.expect("{", None)
    found = seen = False
    while text.peek() != "}":
        key, problem = text.value()
        if problem is not None or not isinstance(key, str):
            raise MalformedObjectError("object: malformed JSON document (a key is not a string)")
        text.expect(":", None)
        if key == "trades":
            if seen:  # which copy counts is left open by JSON: reading either could drop trades
                raise MalformedObjectError(
                    "object: the JSON document has more than one 'trades' key; allowed: one"
                )
            seen = True
        if key == "trades" and text.peek() == "[":
            found = True
            yield from _elements(text, 0, limits)
        else:
            _, problem = text.value()
            if problem is not None:
                raise MalformedObjectError(f"object: malformed JSON document ({problem})")
        if text.expect(",}", None) == "}":
            break
    else:
        text.expect("}", None)
    if not found:
        raise MalformedObjectError("object: the JSON document has no 'trades' array")


def decode(source: Source, limits: Limits) -> Iterator[Chunk]:
    """Chunks of an array document (or ``{"trades": [...]}``); indexes are element positions."""
    text = _Text(source, limits)
    if text.peek() == "[":
        yield from _elements(text, 0, limits)
    else:
        yield from _wrapped(text, limits)
    if text.peek():
        raise MalformedObjectError("object: unexpected data after the JSON document")
