"""No CROSSSLOT anywhere (issue 16: "A CROSSSLOT anywhere fails the run").

Runs last in scripts/test's cluster stage, after the API suite in cluster
mode and the failure tests, on the same cluster and server: a multi-key
command or script whose keys hash to different slots is refused by Redis
with CROSSSLOT, which Redis counts in INFO errorstats and the server would
log. The nodes a failure test killed were checked just before their kill
(their counters die with them); every running node is checked here.
"""

from cluster_checks import server_log_mentions


def test_no_node_ever_answered_crossslot(cluster):
    running = [p for p in cluster.ports if cluster.alive(p)]
    assert len(running) == len(cluster.ports), "a node is down"
    cluster.expect_no_crossslot("after the cluster stage")


def test_the_server_never_logged_crossslot():
    lines = server_log_mentions("CROSSSLOT")
    assert not lines, f"the server logged CROSSSLOT: {lines[:5]}"
