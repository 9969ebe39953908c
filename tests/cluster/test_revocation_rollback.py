"""A sign-out whose revocation mark a failover lost (issue 16, failure test
2: asynchronous replication can lose a master's last writes).

A sign-out commits the revocation in PostgreSQL, then sets the mark
`auth:revoked:{<user id>}:<sha256 of the token>` in Redis, then answers 204.
Every process checks that mark before it trusts a token it verified earlier
and remembers (for up to 5 minutes). If the master that took the mark dies
before its replica has it, the promoted replica says "absent" of a revoked
token. The server must not then trust its memory: a "not revoked" counts
only from a Redis process that was already answering for the mark's slot
when the token was verified in PostgreSQL; any other sends the check to
PostgreSQL, which refuses the token.

Forced as in test_generation_rollback.py: the replica is cut off from its
master (a masterauth the master refuses), the sign-out's mark lands on the
master only, the master is killed and the stale replica promoted.
"""

import hashlib
import time

from account_support import session_of, sign_in, sign_up
from api_support import Api
from bet_support import poll_until

USES_BEFORE = 6
# Each on a connection of its own: the shard that took the sign-out forgets
# the token at once, and a connection stays on one shard. With two shards,
# 20 new connections all landing on that one would be a 1-in-a-million
# chance of not testing the others' memory.
USES_AFTER = 20


def revocation_key(user_id, token):
    return f"auth:revoked:{{{user_id}}}:{hashlib.sha256(token.encode()).hexdigest()}"


def test_a_revocation_mark_lost_by_a_failover_never_lets_the_token_back_in(cluster, api, base_url, admin_token):
    account = sign_up(api)
    token = session_of(api, account)
    user = Api(base_url, token)
    try:
        # The token verified and remembered by every shard of the server.
        for _ in range(USES_BEFORE):
            resp = user.get(f"/v1/users/{account.id}", token=token)
            assert resp.status_code == 200, resp.text
        key = revocation_key(account.id, token)
        master = cluster.owner(key)
        (replica,) = cluster.replicas_of(master)
        cluster.wait_in_sync(master, replica)

        # The replica cut off; the sign-out's mark reaches the master only.
        assert cluster.cut_off(replica) == master
        resp = user.delete("/v1/sessions/current", token=token)
        assert resp.status_code == 204, resp.text
        assert cluster.node(master).exists(key) == 1, "the sign-out set no mark where the test looks"
        assert cluster.readonly_get(replica, key) is None, "the replica was not cut off"

        # The master dies; the replica, without the mark, takes over.
        killed = cluster.kill(master)
        _, promoted = cluster.wait_promoted(replica)
        assert cluster.node(replica).exists(key) == 0, "the mark survived: the case is not forced"
        print(f"\n[revocation] mark on :{master} only; :{replica} promoted {promoted - killed:.2f}s after the kill")

        # The server reaches the promoted master: the user's cart, on the
        # mark's slot (tag {<user id>}), reads 200 on new connections in a
        # row, through a session of the same user signed in after the crash.
        def on_fresh_connection(auth, path):
            fresh = Api(base_url, auth)
            try:
                return fresh.get(path, token=auth)
            finally:
                fresh.close()

        deadline = time.monotonic() + 30
        second = poll_until(lambda: sign_in(api, account.email, account.password).json().get("token"), 30,
                            "a new sign-in after the failover")
        in_a_row = 0
        while in_a_row < USES_AFTER:
            resp = on_fresh_connection(second, f"/v1/users/{account.id}/cart")
            in_a_row = in_a_row + 1 if resp.status_code == 200 else 0
            assert time.monotonic() < deadline, f"the promoted master's slots did not answer within 30 s: {resp.text}"

        # Never let back in: the mark's "absent" comes from a process that
        # began to answer after the token was verified.
        answers = [on_fresh_connection(token, f"/v1/users/{account.id}").status_code for _ in range(USES_AFTER)]
        assert answers == [401] * USES_AFTER, f"a token revoked before the failover was let in after it: {answers}"
    finally:
        user.close()
