"""The server's Redis keys and values, written down once (docs/operations.md,
"Redis"; the same layout in single-node and cluster mode), and the few
Redis operations the tests need that differ between one Redis and a Redis
Cluster (scans across every master, the node that holds a key).

Hash tags: the part of a key between the first '{' and the next '}' decides
its cluster slot, so keys that one command or script must touch together
carry the same tag: a cart, its item counter and its checkout guard share
`{<user_id>}`; a cache namespace's counter and its entries share the
namespace's tag. Idempotency records and bet locks are single keys and
carry no tag (they spread over the cluster).

The suite's Redis is BETSDB_TEST_REDIS_URL (one server) or
BETSDB_TEST_REDIS_CLUSTER (seed nodes host:port[,host:port...] of a Redis
Cluster): exactly one of them is set.
"""

import hashlib
import os
import re

import pytest
import redis as redis_lib
from redis.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot as _key_slot

REDIS_URL_ENV = "BETSDB_TEST_REDIS_URL"
REDIS_CLUSTER_ENV = "BETSDB_TEST_REDIS_CLUSTER"


# --------------------------------------------------------------------------
# Which Redis the suite runs against
# --------------------------------------------------------------------------

def cluster_seeds():
    """[(host, port)] of BETSDB_TEST_REDIS_CLUSTER, or [] in single-node mode."""
    value = os.environ.get(REDIS_CLUSTER_ENV, "")
    seeds = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise pytest.UsageError(f"{REDIS_CLUSTER_ENV}: {part!r} is not host:port")
        seeds.append((host, int(port)))
    return seeds


def cluster_mode():
    return bool(os.environ.get(REDIS_CLUSTER_ENV))


def check_env():
    """Exactly one of the two variables: a usage error otherwise."""
    url, seeds = os.environ.get(REDIS_URL_ENV), os.environ.get(REDIS_CLUSTER_ENV)
    if bool(url) == bool(seeds):
        raise pytest.UsageError(
            f"set exactly one of {REDIS_URL_ENV} (one Redis) and {REDIS_CLUSTER_ENV} "
            f"(a Redis Cluster's seed nodes); scripts/test does this")
    if seeds:
        cluster_seeds()


def suite_redis_env():
    """The BETSDB_* setting that points another betsdb process (a second
    instance, a CLI command) at the suite's Redis."""
    if cluster_mode():
        # As scripts/test runs the suite's own server.
        return {"BETSDB_REDIS_CLUSTER": os.environ[REDIS_CLUSTER_ENV],
                "BETSDB_REDIS_CLUSTER_TRACKING": "on"}
    return {"BETSDB_REDIS_URL": os.environ[REDIS_URL_ENV]}


def connect(socket_timeout=15):
    """A client of the suite's Redis: redis.Redis, or redis.cluster.RedisCluster
    (single-key commands are routed to the key's master)."""
    if cluster_mode():
        nodes = [ClusterNode(host, port) for host, port in cluster_seeds()]
        return RedisCluster(startup_nodes=nodes, decode_responses=True, socket_timeout=socket_timeout,
                            socket_connect_timeout=5)
    return redis_lib.Redis.from_url(os.environ[REDIS_URL_ENV], decode_responses=True,
                                    socket_timeout=socket_timeout)


def is_cluster(client):
    return isinstance(client, RedisCluster)


def scan_keys(client, pattern):
    """Every key matching the glob `pattern`: SCAN on the one Redis, or on
    every master of the cluster. (KEYS on a cluster client asks one node.)"""
    return set(client.scan_iter(match=pattern, count=1000))


def node_for_key(client, key):
    """A plain redis.Redis connected to the server that holds `key` (the
    client itself on one Redis), for per-server commands such as INFO."""
    if is_cluster(client):
        return client.get_redis_connection(client.get_node_from_key(key))
    return client


def key_slot(key):
    """The key's cluster slot (CRC16 of its hash tag, or of the whole key)."""
    return _key_slot(key.encode("utf-8"))


def glob_escape(text):
    """`text` as a literal inside a SCAN/KEYS glob pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


# --------------------------------------------------------------------------
# Carts, the checkout guard, idempotency records, bet locks
# --------------------------------------------------------------------------

def cart(user_id):
    """The cart hash: one field per item id, the item as JSON."""
    return f"cart:{{{user_id}}}"


def cart_seq(user_id):
    """The cart's item id counter (INCR); same slot as the cart."""
    return f"cart:{{{user_id}}}:seq"


def cart_keys(user_id):
    return (cart(user_id), cart_seq(user_id))


def cart_lock(user_id):
    """The checkout guard (SET NX PX), held while a checkout runs."""
    return f"cart_lock:{{{user_id}}}"


def idempotency(user_id, route, key):
    """route: "bets" or "checkout"; the client's Idempotency-Key as sent."""
    return f"idem:{user_id}:{route}:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def encoded_team(name):
    """A team name as it goes into the bet lock key: '%', ':', '{' and '}'
    percent-encoded (so names cannot collide, nor spell a hash tag)."""
    return "".join(f"%{ord(c):02X}" if c in "%:{}" else c for c in name)


def bet_lock(user_id, match):
    """bet:<user_id>:<team_1>:<team_2>:<date>, the match's fields as the API shows them."""
    return f"bet:{user_id}:{encoded_team(match['team_1'])}:{encoded_team(match['team_2'])}:{match['date']}"


def bet_locks_of(client, user_id):
    return scan_keys(client, f"bet:{user_id}:*")


# --------------------------------------------------------------------------
# The read cache: generation counters and entries
# --------------------------------------------------------------------------

MATCHES_GEN = "gen:{matches}"
MATCHES_LIST = "matches:list:{matches}:"       # + <generation>:<query>
BETS_GEN = "gen:{bets}"
BETS_LIST = "bets:list:{bets}:"                # + <generation>:<query>
SUMMARY_GEN = "gen:{summary}"
SUMMARY = "bets_summary:{summary}:"            # + <generation>:all
USER_BETS_ANY = "bets_by_email:"               # every user's entries


def key_text(text):
    """A user's text inside a key: '%', ':', '{' and '}' percent-encoded, so
    that it cannot break the key's hash tag (service/key_text.hpp)."""
    return "".join(f"%{ord(c):02X}" if c in "%:{}" else c for c in text)


def user_bets_gen(email):
    """A user's bet-list generation, bumped by their bets and by settlements."""
    return f"gen:bets_by_email:{{{key_text(email)}}}"


def user_bets(email):
    """Prefix of a user's bet-list entries (+ <generation>:<query>)."""
    return f"bets_by_email:{{{key_text(email)}}}:"


def namespace_prefix(namespace, email=None):
    """The entry prefix of a cache namespace as /metrics names it
    ("matches:list", "bets:list", "bets_by_email", "bets_summary"); a user's
    own with `email`, else every user's."""
    if namespace == "bets_by_email":
        return user_bets(email) if email is not None else USER_BETS_ANY
    return {"matches:list": MATCHES_LIST, "bets:list": BETS_LIST, "bets_summary": SUMMARY}[namespace]


def prefix_namespace(prefix):
    """The /metrics namespace of an entry prefix (the inverse of namespace_prefix)."""
    for namespace, known in (("matches:list", MATCHES_LIST), ("bets:list", BETS_LIST),
                             ("bets_summary", SUMMARY)):
        if prefix == known:
            return namespace
    assert prefix.startswith(USER_BETS_ANY), prefix
    return "bets_by_email"


# Prefixes under which only cache entries live (every one with a TTL).
ENTRY_PREFIXES = (MATCHES_LIST, BETS_LIST, USER_BETS_ANY, SUMMARY)

# {namespace in /metrics: (generation key, entry prefix)} of the global namespaces.
GLOBAL_NAMESPACES = {
    "matches:list": (MATCHES_GEN, MATCHES_LIST),
    "bets:list": (BETS_GEN, BETS_LIST),
    "bets_summary": (SUMMARY_GEN, SUMMARY),
}


def entry_generation(key, prefix):
    """The generation an entry key was stored under: <prefix><generation>:..."""
    assert key.startswith(prefix), (key, prefix)
    generation, sep, _ = key[len(prefix):].partition(":")
    assert sep and generation.isdigit(), f"{key}: no generation after {prefix!r}"
    return int(generation)


ORIGIN_LEN = 12
_ORIGIN = re.compile(r"^[0-9a-f]{12}$")


def split_entry(value):
    """A cache entry's value "<origin>|<json>" -> (origin, json text). The
    origin is the first 12 hex characters of the run_id of the Redis server
    process that served the read it caches."""
    assert isinstance(value, str), value
    origin, sep, body = value.partition("|")
    assert sep and _ORIGIN.match(origin), f"not <12 hex>|<json>: {value[:80]!r}"
    return origin, body


def join_entry(origin, body):
    return f"{origin}|{body}"


def run_id_origin(node):
    """What a server's entries carry as their origin: its run_id's first 12 characters."""
    return node.info("server")["run_id"][:ORIGIN_LEN]
