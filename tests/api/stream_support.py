"""A Server-Sent Events client for the live stream tests (API.md Part 2,
"Live stream"; docs/api.md): `GET /v1/stream` on a raw socket, so a test
controls the exact request (Last-Event-ID header, ?last_event_id=, a raw
match_id list), the socket (a small SO_RCVBUF, set before connecting, for a
slow consumer) and when the body is read.

The body is parsed as the SSE specification says: lines end with LF (or
CRLF); `field: value` lines (one optional space after the colon), comment
lines starting with ':', and a blank line ending each block. Every block
is kept with its raw bytes and the moment its last line arrived
(time.monotonic()), so tests check both the wire format and latency.

Two ways to read:
- read=True (default): a background thread reads the socket as bytes come
  and appends the blocks; next_event() and friends wait for them with a
  deadline.
- read=False: nothing reads the socket (a stalled client) until drain(),
  which reads what the kernel holds and then waits, with a deadline, for
  the server to end the connection.

Every wait has a deadline; a hung server fails the test, never the suite.
"""

import json
import re
import socket
import threading
import time
import urllib.parse

import pytest

from api_support import RawResponse

STREAM_PATH = "/v1/stream"
SSE_CONTENT_TYPE = "text/event-stream"

# Connecting and receiving the response head.
CONNECT_S = 5
HEAD_S = 15
# A committed change reaches a stream client (typically within milliseconds;
# generous for an ASan build on a shared 2-core machine).
EVENT_S = 10
# The background reader's socket timeout: how quickly close() stops it.
_READER_TICK_S = 0.2

# Event ids look like Redis stream ids, "<ms>-<seq>" (the contract calls them
# opaque: only their order is used, never their value).
EVENT_ID = re.compile(r"^(\d+)-(\d+)$")


def id_key(event_id):
    """The sort key of an event id ("<ms>-<seq>"); fails on any other form."""
    m = EVENT_ID.match(event_id or "")
    assert m, f"event id {event_id!r} is not of the form <digits>-<digits>"
    return int(m.group(1)), int(m.group(2))


def expect_increasing_ids(events, what="events"):
    """The ids of `events` (Blocks) strictly increase."""
    keys = [id_key(e.id) for e in events]
    for i in range(1, len(keys)):
        assert keys[i - 1] < keys[i], \
            f"{what}: event ids do not strictly increase at {i}: {events[i - 1].id} then {events[i].id}"


class Block:
    """One SSE block: the lines up to a blank line."""

    def __init__(self, fields, comments, raw, at):
        self.fields = fields        # [(name, value)] in order
        self.comments = comments    # comment texts (after ':' and one optional space)
        self.raw = raw              # the bytes of the block, its blank line included
        self.at = at                # time.monotonic() when its blank line arrived

    def field(self, name):
        values = [v for n, v in self.fields if n == name]
        return values[-1] if values else None

    def field_names(self):
        return [n for n, _ in self.fields]

    @property
    def id(self):
        return self.field("id")

    @property
    def data(self):
        values = [v for n, v in self.fields if n == "data"]
        return "\n".join(values) if values else None

    @property
    def event(self):
        """The event type: the `event` field, or "message" (the SSE default)."""
        return self.field("event") or "message"

    @property
    def is_event(self):
        """A block that dispatches an event (it has data), as EventSource does."""
        return any(n == "data" for n, _ in self.fields)

    @property
    def is_match(self):
        return self.is_event and self.event == "match"

    def json(self):
        if not hasattr(self, "_json"):
            self._json = json.loads(self.data)
        return self._json

    @property
    def match_id(self):
        """The `id` of the match in a `match` event's data (None otherwise)."""
        if not self.is_match:
            return None
        body = self.json()
        return body.get("id") if isinstance(body, dict) else None

    def __repr__(self):
        text = self.raw.decode("utf-8", errors="replace")
        return f"<Block {text[:300]!r}{'...' if len(text) > 300 else ''}>"


class _Parser:
    """Bytes in, Blocks out (lines end with LF; a CR before it is dropped)."""

    def __init__(self):
        self.buf = b""
        self.raw = b""
        self.lines = []

    def feed(self, data, at):
        self.buf += data
        out = []
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                return out
            line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
            self.raw += line
            text = line[:-1]
            if text.endswith(b"\r"):
                text = text[:-1]
            if text:
                self.lines.append(text.decode("utf-8"))
                continue
            if self.lines:
                out.append(self._block(at))
            self.lines, self.raw = [], b""

    def _block(self, at):
        fields, comments = [], []
        for line in self.lines:
            if line.startswith(":"):
                comments.append(line[2:] if line.startswith(": ") else line[1:])
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            fields.append((name, value))
        return Block(fields, comments, self.raw, at)

    def pending(self):
        """Bytes of a block not yet ended by its blank line."""
        return self.raw + self.buf


class _Dechunker:
    """Transfer-Encoding: chunked, decoded incrementally (should the server use it)."""

    def __init__(self):
        self.buf = b""
        self.left = None   # bytes left in the current chunk; None: a size line is next
        self.crlf = False  # the CRLF after a chunk's data is next
        self.done = False

    def feed(self, data):
        self.buf += data
        out = b""
        while not self.done:
            if self.crlf:
                if len(self.buf) < 2:
                    break
                assert self.buf[:2] == b"\r\n", f"bad chunked encoding: {self.buf[:40]!r}"
                self.buf, self.crlf = self.buf[2:], False
            if self.left is None:
                i = self.buf.find(b"\r\n")
                if i < 0:
                    break
                size = int(self.buf[:i].split(b";")[0].strip(), 16)
                self.buf = self.buf[i + 2:]
                if size == 0:
                    self.done = True
                    break
                self.left = size
            take = self.buf[:self.left]
            out += take
            self.buf = self.buf[len(take):]
            self.left -= len(take)
            if self.left:
                break
            self.left, self.crlf = None, True
        return out


# warm_up: how long one write's event is waited for before the next write,
# and how long the whole warm-up may take.
_WARM_UP_STEP_S = 0.5
WARM_UP_S = 20


def warm_up(stream, write):
    """Makes changes (write() -> the changed match, as its answer) until one
    reaches `stream`: from then on, the instance behind it follows the
    stream. Returns that event (a resume point after the warm-up); the
    stream's next_* calls go on after it."""
    deadline = time.monotonic() + WARM_UP_S
    while True:
        body = write()
        found = stream.poll(lambda blocks: [b for b in blocks if b.is_match and b.json() == body][:1],
                            _WARM_UP_STEP_S)
        if found:
            stream.skip_past(found[0])
            return found[0]
        assert stream.closed is None, f"{stream.target}: the stream ended ({stream.closed}) during the warm-up"
        if time.monotonic() > deadline:
            pytest.fail(f"{stream.target}: no event of a change reached the stream within {WARM_UP_S}s")


def stream_target(match_ids=None, last_event_id_query=None, query=None):
    """/v1/stream with the given query: match_ids a list (joined with ',') or a
    raw string sent as is; `query` a raw extra "name=value" string."""
    params = []
    if match_ids is not None:
        value = match_ids if isinstance(match_ids, str) else ",".join(str(i) for i in match_ids)
        params.append("match_id=" + value)
    if last_event_id_query is not None:
        params.append("last_event_id=" + last_event_id_query)
    if query is not None:
        params.append(query)
    return STREAM_PATH + ("?" + "&".join(params) if params else "")


class SseStream:
    """One GET /v1/stream on its own socket.

    `response` is a RawResponse (status, headers; the body too when the
    answer is not 200, e.g. a 400 or 503 problem), usable with the
    api_support expect_* helpers. For a 200 the body is the event stream."""

    def __init__(self, base_url, *, match_ids=None, last_event_id=None, last_event_id_query=None,
                 query=None, headers=None, rcvbuf=None, read=True, target=None):
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.target = target or stream_target(match_ids, last_event_id_query, query)
        self.url = f"{base_url.rstrip('/')}{self.target}"
        self.blocks = []
        self.closed = None          # None while open; then "eof" or "reset" (how the server ended it)
        self.closed_at = None
        self.bytes_received = 0
        self._cursor = 0
        self._parser = _Parser()
        self._dechunker = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                # Before connect(): the window is negotiated in the handshake.
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(CONNECT_S)
            self.sock.connect((self.host, self.port))
            request = [f"GET {self.target} HTTP/1.1", f"Host: {self.host}:{self.port}",
                       f"Accept: {SSE_CONTENT_TYPE}", "Cache-Control: no-cache"]
            if last_event_id is not None:
                request.append(f"Last-Event-ID: {last_event_id}")
            for name, value in (headers or {}).items():
                request.append(f"{name}: {value}")
            self.sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode("latin-1"))
            self._read_head()
        except BaseException:
            self.sock.close()
            raise
        if self.response.status_code != 200:
            self.sock.close()
            self.closed = "eof"
            return
        if read:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"sse-{self.port}")
            self._thread.start()

    # ------------------------------------------------------------ the head

    def _read_head(self):
        deadline = time.monotonic() + HEAD_S
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv_by(deadline, "the response head of " + self.url)
            if not chunk:
                pytest.fail(f"GET {self.target}: the server closed the connection before a response "
                            f"head (got {data[:200]!r})")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        self.status_line = lines[0]
        lowered = {n.lower(): v for n, v in headers}
        if status != 200:
            length = lowered.get("content-length")
            if length is not None:
                while len(rest) < int(length):
                    chunk = self._recv_by(deadline, "the response body of " + self.url)
                    if not chunk:
                        break
                    rest += chunk
                rest = rest[:int(length)]
            else:
                while True:
                    chunk = self._recv_by(deadline, "the response body of " + self.url)
                    if not chunk:
                        break
                    rest += chunk
            self.response = RawResponse("GET", self.url, status, headers, rest)
            return
        self.response = RawResponse("GET", self.url, status, headers, b"")
        if lowered.get("transfer-encoding", "").lower() == "chunked":
            self._dechunker = _Dechunker()
        if rest:
            self._consume(rest)

    def _recv_by(self, deadline, what):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"timed out waiting for {what}")
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            pytest.fail(f"timed out waiting for {what}")
        except (ConnectionResetError, BrokenPipeError):
            return b""

    # ------------------------------------------------------------ the body

    def _consume(self, data):
        at = time.monotonic()
        self.bytes_received += len(data)
        if self._dechunker is not None:
            data = self._dechunker.feed(data)
        blocks = self._parser.feed(data, at)
        if blocks:
            with self._cond:
                self.blocks.extend(blocks)
                self._cond.notify_all()

    def _finish(self, how):
        with self._cond:
            if self.closed is None:
                self.closed = how
                self.closed_at = time.monotonic()
            self._cond.notify_all()

    def _receive(self):
        """One recv: the bytes, None when the socket's timeout passed, or b""
        once the connection has ended (recorded by _finish)."""
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            self._finish("reset")
            return b""
        except OSError:
            self._finish("reset" if not self._stop else "closed by the test")
            return b""
        if not chunk:
            self._finish("eof")
        return chunk

    def _run(self):
        self.sock.settimeout(_READER_TICK_S)
        while not self._stop:
            chunk = self._receive()
            if chunk is None:
                continue
            if not chunk:
                return
            self._consume(chunk)

    def drain(self, timeout_s):
        """For read=False: reads everything, until the server ends the
        connection (returns "eof" or "reset") or `timeout_s` passes (returns
        None: the connection is still open)."""
        assert self._thread is None, "drain() is for a stream opened with read=False"
        deadline = time.monotonic() + timeout_s
        while self.closed is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(min(remaining, 1.0))
            chunk = self._receive()
            if chunk is None:
                continue
            if not chunk:
                break
            self._consume(chunk)
        return self.closed

    # ------------------------------------------------------------ consuming

    def _wait(self, condition, timeout_s):
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def next_block(self, timeout_s=EVENT_S, what="a block"):
        """The next block not yet consumed; None if the server ended the
        stream first. Fails after `timeout_s`."""
        if not self._wait(lambda: self._cursor < len(self.blocks) or self.closed, timeout_s):
            pytest.fail(f"{self.target}: no {what} within {timeout_s}s "
                        f"(got so far: {self.blocks[-5:]})")
        with self._cond:
            if self._cursor < len(self.blocks):
                block = self.blocks[self._cursor]
                self._cursor += 1
                return block
            return None

    def next_event(self, timeout_s=EVENT_S, of=None, what=None):
        """The next event (a block with data; retry-only and comment-only
        blocks are skipped). `of`: a set of match ids: `match` events of
        other matches (other writers on a shared server) are skipped too.
        Fails if the stream ends or nothing comes within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        what = what or ("an event" if of is None else f"an event of matches {sorted(of)}")
        while True:
            block = self.next_block(max(deadline - time.monotonic(), 0.001), what)
            assert block is not None, \
                f"{self.target}: the stream ended ({self.closed}) while waiting for {what}"
            if not block.is_event:
                continue
            if of is not None and block.is_match and block.match_id not in of:
                continue
            return block

    def next_events(self, count, timeout_s=EVENT_S, of=None, what=None):
        """The next `count` events (as next_event), the whole batch within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        return [self.next_event(max(deadline - time.monotonic(), 0.001), of=of,
                                what=what or f"event {i + 1} of {count}")
                for i in range(count)]

    def next_match(self, timeout_s=EVENT_S, of=None):
        """The next event, which must be `event: match`; returns (Block, match JSON)."""
        block = self.next_event(timeout_s, of=of)
        assert block.is_match, f"{self.target}: expected a match event, got {block}"
        return block, block.json()

    def skip_past(self, block):
        """Moves the next_* calls' cursor past `block` (a block received)."""
        with self._cond:
            self._cursor = max(self._cursor, self.blocks.index(block) + 1)

    def events(self):
        """Every event received so far (consumed or not)."""
        with self._cond:
            return [b for b in self.blocks if b.is_event]

    def wait_for(self, predicate, timeout_s, what):
        """Waits until predicate(list of every block so far) is true; returns it."""
        result = [None]

        def check():
            result[0] = predicate(list(self.blocks))
            return result[0] or self.closed is not None

        if not self._wait(check, timeout_s) or not result[0]:
            pytest.fail(f"{self.target}: timed out ({timeout_s}s) or ended ({self.closed}) waiting "
                        f"for {what}; last blocks: {self.blocks[-5:]}")
        return result[0]

    def poll(self, predicate, timeout_s):
        """Like wait_for, but returns None (instead of failing) on timeout."""
        result = [None]

        def check():
            result[0] = predicate(list(self.blocks))
            return result[0] or self.closed is not None

        self._wait(check, timeout_s)
        return result[0] or None

    def event_of(self, body, timeout_s=EVENT_S):
        """The match event (received or to come) whose data equals `body`,
        e.g. a write's answer: its id is a resume point after that write."""
        found = self.wait_for(lambda blocks: [b for b in blocks if b.is_match and b.json() == body][:1],
                              timeout_s, f"the event of match {body.get('id')} at version "
                                         f"{body.get('odds_version')}")
        return found[0]

    def wait_closed(self, timeout_s, what="the server to end the stream"):
        """Waits until the server ends the stream; returns "eof" or "reset"."""
        if not self._wait(lambda: self.closed is not None, timeout_s):
            pytest.fail(f"{self.target}: timed out after {timeout_s}s waiting for {what}")
        return self.closed

    def pending_bytes(self):
        """Bytes of an incomplete block (a stream cut mid-event)."""
        return self._parser.pending()

    def close(self):
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
