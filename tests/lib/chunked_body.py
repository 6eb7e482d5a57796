"""Reading ssed's HTTP/1.1 responses in the raw clients of the tests: an
event stream to an HTTP/1.1 client is chunked (RFC 9112 7.1), to an
HTTP/1.0 one it ends with the connection. The decoder is strict, so a test
that feeds it a stream also checks its framing byte for byte: a size line
of hex digits and CRLF, exactly that many bytes, CRLF, and nothing after
the last chunk.

Use: head, rest = split_head(data); body = Body(head); body.feed(rest);
body.data holds the decoded bytes, body.ended is true once the last chunk
(or, close-delimited, nothing) ended it; body.error says what was wrong."""


def split_head(data):
    """(head, rest) once data holds a whole response head, else (None, data)."""
    at = data.find(b"\r\n\r\n")
    if at < 0:
        return None, data
    return data[: at + 4], data[at + 4 :]


def is_chunked(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return True
    return False


class Body:
    """A response body as it arrives, decoded when the head says chunked."""

    def __init__(self, head):
        self.chunked = is_chunked(head)
        self.data = bytearray()  # appended in place: a stream of megabytes in small reads stays linear
        self.ended = False  # the last chunk came (chunked only)
        self.error = None
        self.chunks = 0
        self._raw = b""
        self._left = None  # bytes of the current chunk still to come; None: a size line is next
        self._trailer = False  # the CRLF after a chunk's bytes is next
        self._in_last = False  # the last chunk's size line is read; its CRLF is next

    def feed(self, raw):
        """Take raw bytes; returns the newly decoded ones."""
        if not self.chunked:
            self.data += raw
            return bytes(raw)
        before = len(self.data)
        self._raw += raw
        while self._raw and not self.error:
            if not self._step():
                break
        return bytes(self.data[before:])

    def _fail(self, why):
        self.error = why
        return False

    def _step(self):
        if self.ended:
            return self._fail(f"bytes after the last chunk: {self._raw[:20]!r}")
        if self._in_last:
            return self._last_chunk()
        if self._trailer:
            if len(self._raw) < 2:
                return False
            if self._raw[:2] != b"\r\n":
                return self._fail(f"no CRLF after a chunk: {self._raw[:20]!r}")
            self._raw, self._trailer = self._raw[2:], False
            return True
        if self._left is None:
            end = self._raw.find(b"\r\n")
            if end < 0:
                if len(self._raw) < 20:
                    return False  # the rest of the size line is still to come
                return self._fail(f"size line too long: {self._raw[:20]!r}")
            line = self._raw[:end]
            if not line or any(c not in b"0123456789abcdefABCDEF" for c in line):
                return self._fail(f"bad size line {line!r}")
            self._left, self._raw = int(line, 16), self._raw[end + 2 :]
            self.chunks += 1
            if self._left == 0:
                self._left, self._in_last = None, True
            return True
        take = self._raw[: self._left]
        self.data += take
        self._raw = self._raw[len(take) :]
        self._left -= len(take)
        if self._left == 0:
            self._left, self._trailer = None, True
        return True

    def _last_chunk(self):
        # No trailer fields: the last chunk is "0\r\n\r\n".
        if len(self._raw) < 2:
            return False
        if self._raw[:2] != b"\r\n":
            return self._fail(f"trailer after the last chunk: {self._raw[:20]!r}")
        self._raw, self.ended, self._in_last = self._raw[2:], True, False
        return True
