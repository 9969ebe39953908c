// The live stream of match changes (GET /v1/stream, Server-Sent Events).
// EventSource reconnects by itself and sends the id of the last event it
// got, so the server replays what was missed meanwhile. When it cannot
// (an `event: reset`, or a connection that opens with no id to resume from)
// the caller is told to read its list again.

const RETRY_MS = 5_000; // after a refusal (e.g. 503: the stream is full)

// handlers: onMatch(match), onReload(), onState('live' | 'reconnecting').
// Returns a function that closes the stream.
export function liveMatches({ onMatch, onReload, onState }) {
  let source = null;
  let lastId = '';
  let timer = 0;

  function connect() {
    // A new EventSource sends no Last-Event-ID header: the query carries it.
    source = new EventSource(lastId ? `/v1/stream?last_event_id=${encodeURIComponent(lastId)}` : '/v1/stream');
    source.addEventListener('open', () => {
      onState('live');
      // Without an id the server sends only what happens from now on.
      if (!lastId) onReload();
    });
    source.addEventListener('error', () => {
      onState('reconnecting');
      // A network error retries by itself; a refused connection is closed
      // for good, so try again a little later.
      if (source.readyState === EventSource.CLOSED) timer = setTimeout(connect, RETRY_MS);
    });
    source.addEventListener('match', (e) => {
      lastId = e.lastEventId;
      let match;
      try {
        match = JSON.parse(e.data);
      } catch {
        return;
      }
      onMatch(match);
    });
    source.addEventListener('reset', (e) => {
      lastId = e.lastEventId;
      onReload();
    });
  }

  connect();
  return () => {
    clearTimeout(timer);
    source.close();
  };
}
