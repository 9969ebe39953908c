"""Helpers for tests of state each shard (server thread) keeps on its own.

Connections are spread over the shards by the kernel (SO_REUSEPORT), so a
test that must reach every shard sends its requests over many fresh
connections.
"""

from api_support import Api

FRESH_CONNECTIONS = 16  # P(a shard of two gets none) = 2 * 2**-16


def on_fresh_connections(base_url, admin_token, call, times=FRESH_CONNECTIONS):
    """call(client) once per new connection; returns the results in order."""
    results = []
    for _ in range(times):
        client = Api(base_url, admin_token)
        try:
            results.append(call(client))
        finally:
            client.close()
    return results
