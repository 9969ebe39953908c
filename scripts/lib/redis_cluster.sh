# A local Redis Cluster from Debian's redis-server, for scripts/test, bench/
# and tests/cluster: 3 masters and 3 replicas (or any even number of nodes,
# half of them masters) on 127.0.0.1, each daemonized in DIR/PORT/ with an
# append-only file. Sourced after scripts/lib/common.sh; nothing here waits
# blindly: every wait polls a condition, bounded in time.
#
# A cluster is named by its folder DIR: DIR/ports lists its nodes' ports.
#   ports=$(free_cluster_ports 6)
#   redis_cluster_create DIR $ports           # start, create, wait until ready
#   redis_cluster_seeds DIR                   # 127.0.0.1:p1,127.0.0.1:p2,...
#   redis_cluster_stop DIR
# and, for the failure tests: redis_cluster_pair, redis_cluster_key_owner,
# redis_cluster_failover, redis_cluster_crash_master, redis_cluster_start_node,
# redis_cluster_reshard, redis_cluster_errorstat (each documented below).
# shellcheck shell=bash

# cluster-node-timeout: how long a master may be unreachable before the
# others mark it failed and its replica takes over. Short, so that a crash
# test sees a promotion within seconds.
REDIS_CLUSTER_NODE_TIMEOUT_MS=${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}
# Every command sent to a node here is bounded (redis-cli has no timeout of
# its own, and a paused or dying node may never answer).
REDIS_CLUSTER_CLI_TIMEOUT_S=${REDIS_CLUSTER_CLI_TIMEOUT_S:-5}

_rc_log() { printf 'redis-cluster: %s\n' "$*" >&2; }

# rcli PORT ARGS...: one redis-cli command to one node (no redirections
# followed), bounded; prints the raw reply.
rcli() {
  local port=$1; shift
  timeout "$REDIS_CLUSTER_CLI_TIMEOUT_S" redis-cli -h 127.0.0.1 -p "$port" --raw "$@"
}

# _rc_info_field PORT SECTION FIELD: one "field:value" of INFO SECTION.
_rc_info_field() {
  rcli "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2; exit}'
}

_rc_cluster_info_field() {
  rcli "$1" cluster info 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2; exit}'
}

# free_cluster_ports N: N free ports P whose cluster bus ports P+10000 are
# free too. Chosen below the kernel's ephemeral range (32768..), so that no
# outgoing connection takes a bus port between this choice and the start.
free_cluster_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
found = []
for _ in range(5000):
    p = random.randrange(20000, 22700)
    taken = set(found) | {q + 10000 for q in found} | {q - 10000 for q in found}
    if p in taken or p + 10000 in taken:
        continue
    if free(p) and free(p + 10000):
        found.append(p)
        if len(found) == n:
            print(" ".join(map(str, found)))
            sys.exit(0)
sys.exit("no free cluster ports")
PY
}

redis_cluster_ports() { cat "$1/ports"; }

# redis_cluster_seeds DIR: the nodes as BETSDB_REDIS_CLUSTER wants them.
redis_cluster_seeds() {
  local out="" p
  for p in $(redis_cluster_ports "$1"); do out+="${out:+,}127.0.0.1:$p"; done
  echo "$out"
}

# redis_cluster_start_node DIR PORT: starts (or restarts, e.g. after a
# crash: it rejoins from its nodes.conf) one node in DIR/PORT/. Returns once
# it answers PING; the cluster may not be ready yet.
redis_cluster_start_node() {
  local dir=$1/$2 port=$2
  mkdir -p "$dir"
  # cluster-replica-validity-factor 0: a replica always stands for election,
  # however long its link to the master has been down (the rollback test
  # keeps one behind on purpose; production may prefer the default 10).
  # cluster-require-full-coverage no: while one master's slots are
  # unreachable, the others keep serving theirs.
  # repl-ping-replica-period 1: a replica that has just synced from an idle
  # master (a new cluster, or one restarted from its files) is listed by
  # CLUSTER SLOTS within a second (_rc_replicas_listed), not ten.
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' \
    --appendonly yes --appendfsync everysec \
    --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT_MS" \
    --cluster-replica-validity-factor 0 --cluster-require-full-coverage no \
    --repl-ping-replica-period 1 \
    >/dev/null || { _rc_log "redis-server :$port did not start"; return 1; }
  local _
  for _ in $(seq 200); do
    [[ $(rcli "$port" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.05
  done
  _rc_log "redis-server :$port does not answer PING (see $dir/redis.log)"
  return 1
}

# redis_cluster_create DIR PORT...: starts one node per port (an even
# number, at least 6), creates the cluster with one replica per master, and
# waits until it is ready (redis_cluster_wait_ready).
redis_cluster_create() {
  local dir=$1; shift
  local ports=("$@") p
  ((${#ports[@]} >= 6 && ${#ports[@]} % 2 == 0)) || { _rc_log "need an even number (>= 6) of ports"; return 1; }
  mkdir -p "$dir"
  echo "${ports[*]}" >"$dir/ports"
  for p in "${ports[@]}"; do
    redis_cluster_start_node "$dir" "$p" || return 1
  done
  local addrs=()
  for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
  timeout 120 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    >"$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; _rc_log "cluster create failed"; return 1; }
  redis_cluster_wait_ready "$dir" 60
}

# _rc_replicas_listed PORT: exit 0 when every slot range in PORT's CLUSTER
# SLOTS names a replica besides its master. Redis 7.0 leaves a replica out
# until its replication offset is not zero, which an idle master's replica
# reaches only at the master's first write or replication PING (every
# repl-ping-replica-period, 1 s here; 10 s by default): a client
# that loaded its map before then meets the replicas later, as a change of
# membership (betsdb's shards then forget their kept values, and tokens are
# verified again in PostgreSQL).
_rc_replicas_listed() {
  timeout "$REDIS_CLUSTER_CLI_TIMEOUT_S" redis-cli -h 127.0.0.1 -p "$1" --json cluster slots 2>/dev/null |
    python3 -c 'import json, sys
ranges = json.load(sys.stdin)
sys.exit(0 if ranges and all(len(r) >= 4 for r in ranges) else 1)' 2>/dev/null
}

# redis_cluster_nodes PORT: CLUSTER NODES as PORT sees it, one line per node:
#   <id> <port> <role: master|slave> <master id or -> <flags> <slots...>
redis_cluster_nodes() {
  rcli "$1" cluster nodes | tr -d '\r' | awk '
    NF >= 8 {
      split($2, a, "@"); n = split(a[1], hp, ":"); port = hp[n]
      role = ($3 ~ /master/) ? "master" : (($3 ~ /slave/) ? "slave" : "other")
      line = $1 " " port " " role " " $4 " " $3
      for (i = 9; i <= NF; i++) line = line " " $i
      print line
    }'
}

# redis_cluster_check_ready DIR: exit 0 when, seen from every node: the
# cluster is ok, every slot is served, every node is known; there are half
# as many masters holding slots as nodes, each with one replica whose link
# is up and which its CLUSTER SLOTS lists; and the nodes agree about which
# master serves which slot.
redis_cluster_check_ready() {
  local dir=$1 ports p n
  read -r -a ports <<<"$(redis_cluster_ports "$dir")"
  n=${#ports[@]}
  for p in "${ports[@]}"; do
    [[ $(_rc_cluster_info_field "$p" cluster_state) == ok ]] || return 1
    [[ $(_rc_cluster_info_field "$p" cluster_slots_ok) == 16384 ]] || return 1
    [[ $(_rc_cluster_info_field "$p" cluster_slots_pfail) == 0 ]] || return 1
    [[ $(_rc_cluster_info_field "$p" cluster_slots_fail) == 0 ]] || return 1
    [[ $(_rc_cluster_info_field "$p" cluster_known_nodes) == "$n" ]] || return 1
    [[ $(_rc_cluster_info_field "$p" cluster_size) == $((n / 2)) ]] || return 1
    case $(_rc_info_field "$p" replication role) in
      master)
        [[ $(_rc_info_field "$p" replication connected_slaves) == 1 ]] || return 1
        _rc_replicas_listed "$p" || return 1 ;;
      slave) [[ $(_rc_info_field "$p" replication master_link_status) == up ]] || return 1 ;;
      *) return 1 ;;
    esac
  done
  # Every node's view of slot ownership and roles is the same (a node that
  # has not yet heard of a failover would redirect to the old master).
  local views
  views=$(for p in "${ports[@]}"; do
    redis_cluster_nodes "$p" 2>/dev/null | awk '{ $5 = ""; print }' | sort | md5sum
  done | sort -u | wc -l)
  [[ $views == 1 ]]
}

# redis_cluster_wait_ready DIR [TIMEOUT_S=60]: polls redis_cluster_check_ready.
redis_cluster_wait_ready() {
  local dir=$1 timeout_s=${2:-60}
  local deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    redis_cluster_check_ready "$dir" && return 0
    sleep 0.1
  done
  _rc_log "not ready within ${timeout_s}s:"
  local p
  for p in $(redis_cluster_ports "$dir"); do
    _rc_log ":$p $(_rc_cluster_info_field "$p" cluster_state) role=$(_rc_info_field "$p" replication role) link=$(_rc_info_field "$p" replication master_link_status)"
  done
  return 1
}

# redis_cluster_stop DIR: SHUTDOWN NOSAVE on every node (the AOF is fsynced
# first), then waits for each process to exit; one that does not within
# 10 s is killed. Safe to call twice, or on a cluster half started.
redis_cluster_stop() {
  local dir=$1 p pid _
  [[ -f $dir/ports ]] || return 0
  for p in $(redis_cluster_ports "$dir"); do
    rcli "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  for p in $(redis_cluster_ports "$dir"); do
    pid=$(cat "$dir/$p/redis.pid" 2>/dev/null) || continue
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]]; then
      _rc_log "node :$p did not shut down; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  return 0
}

# redis_cluster_node_id PORT
redis_cluster_node_id() { rcli "$1" cluster myid | tr -d '\r'; }

# redis_cluster_role PORT: master or slave, as the node says itself.
redis_cluster_role() { _rc_info_field "$1" replication role; }

# redis_cluster_masters PORT: the ports of the masters holding slots.
redis_cluster_masters() {
  redis_cluster_nodes "$1" | awk '$3 == "master" && $5 !~ /fail/ && NF > 5 {print $2}' | sort -n
}

# redis_cluster_replicas_of PORT MASTER_PORT: the ports of that master's
# replicas (not failed), as PORT sees them, whatever their link's state.
redis_cluster_replicas_of() {
  local port=$1 master=$2 mid
  mid=$(redis_cluster_nodes "$port" | awk -v m="$master" '$2 == m {print $1}')
  [[ -n $mid ]] || return 0
  redis_cluster_nodes "$port" | awk -v id="$mid" '$3 == "slave" && $4 == id && $5 !~ /fail/ {print $2}'
}

# redis_cluster_replica_of PORT MASTER_PORT: a replica of that master whose
# replication link is up (empty if none).
redis_cluster_replica_of() {
  local p
  for p in $(redis_cluster_replicas_of "$1" "$2"); do
    if [[ $(_rc_info_field "$p" replication master_link_status) == up ]]; then
      echo "$p"
      return 0
    fi
  done
}

# redis_cluster_pair PORT: "MASTER_PORT REPLICA_PORT" of the first master
# (by port) that has a replica in sync.
redis_cluster_pair() {
  local m r
  for m in $(redis_cluster_masters "$1"); do
    r=$(redis_cluster_replica_of "$1" "$m")
    [[ -n $r ]] && { echo "$m $r"; return 0; }
  done
  return 1
}

# redis_cluster_key_slot PORT KEY
redis_cluster_key_slot() { rcli "$1" cluster keyslot "$2" | tr -d '\r'; }

# redis_cluster_slot_owner PORT SLOT: the port of the master serving SLOT.
redis_cluster_slot_owner() {
  redis_cluster_nodes "$1" | awk -v s="$2" '
    $3 == "master" {
      for (i = 6; i <= NF; i++) {
        if ($i ~ /^\[/) continue                 # a slot being migrated or imported
        n = split($i, r, "-"); lo = r[1]; hi = (n == 2) ? r[2] : r[1]
        if (s + 0 >= lo + 0 && s + 0 <= hi + 0) { print $2; exit }
      }
    }'
}

# redis_cluster_key_owner PORT KEY: the port of the master serving KEY's slot
# (hash tags count: "cart:{7}" is served where "7" is).
redis_cluster_key_owner() {
  redis_cluster_slot_owner "$1" "$(redis_cluster_key_slot "$1" "$2")"
}

# redis_cluster_wait_role PORT ROLE [TIMEOUT_S=30]
redis_cluster_wait_role() {
  local port=$1 role=$2 deadline=$((SECONDS + ${3:-30}))
  while ((SECONDS < deadline)); do
    [[ $(redis_cluster_role "$port") == "$role" ]] && return 0
    sleep 0.05
  done
  _rc_log "node :$port did not become $role"
  return 1
}

# redis_cluster_failover DIR REPLICA_PORT [TIMEOUT_S=30]: a manual failover
# (CLUSTER FAILOVER, no FORCE: the master stops its clients until the
# replica has caught up, so no acknowledged write is lost); waits until the
# replica is the master, the old master its replica in sync, and the whole
# cluster ready again.
redis_cluster_failover() {
  local dir=$1 replica=$2 timeout_s=${3:-30} master_id old
  master_id=$(rcli "$replica" cluster nodes | tr -d '\r' | awk '$3 ~ /myself/ {print $4}')
  old=$(redis_cluster_nodes "$replica" | awk -v id="$master_id" '$1 == id {print $2}')
  [[ -n $old ]] || { _rc_log ":$replica is not a replica"; return 1; }
  [[ $(rcli "$replica" cluster failover | tr -d '\r') == OK ]] || { _rc_log "CLUSTER FAILOVER refused by :$replica"; return 1; }
  redis_cluster_wait_role "$replica" master "$timeout_s" || return 1
  redis_cluster_wait_role "$old" slave "$timeout_s" || return 1
  redis_cluster_wait_ready "$dir" "$timeout_s"
}

# redis_cluster_wait_promoted PORT [TIMEOUT_S=30]: until the (former)
# replica at PORT says it is a master and the cluster state is ok from it.
redis_cluster_wait_promoted() {
  local port=$1 deadline=$((SECONDS + ${2:-30}))
  while ((SECONDS < deadline)); do
    if [[ $(redis_cluster_role "$port") == master && $(_rc_cluster_info_field "$port" cluster_state) == ok ]]; then
      return 0
    fi
    sleep 0.05
  done
  _rc_log "node :$port was not promoted"
  return 1
}

# redis_cluster_crash_master DIR MASTER_PORT [TIMEOUT_S=30]: kill -9 of a
# master; waits until its replica is promoted (after cluster-node-timeout)
# and prints the new master's port. The replica need not be in sync (with
# cluster-replica-validity-factor 0 it stands for election anyway, and what
# it had not received is lost). The dead node stays down: bring it back as
# a replica with redis_cluster_start_node DIR PORT, then
# redis_cluster_wait_ready DIR.
redis_cluster_crash_master() {
  local dir=$1 master=$2 timeout_s=${3:-30} replica pid
  replica=$(redis_cluster_replicas_of "$master" "$master" | head -1)
  [[ -n $replica ]] || { _rc_log ":$master has no replica"; return 1; }
  pid=$(_rc_info_field "$master" server process_id)
  [[ $pid =~ ^[0-9]+$ && $(cat "$dir/$master/redis.pid" 2>/dev/null) == "$pid" ]] \
    || { _rc_log "no pid for :$master in $dir"; return 1; }
  kill -KILL "$pid"
  redis_cluster_wait_promoted "$replica" "$timeout_s" || return 1
  echo "$replica"
}

# redis_cluster_reshard DIR FROM_PORT TO_PORT SLOTS [PIPELINE=10]: moves
# SLOTS slots (with their keys, PIPELINE keys per MIGRATE) from one master to
# another with redis-cli --cluster reshard, non-interactively; then waits
# until every node agrees.
redis_cluster_reshard() {
  local dir=$1 from=$2 to=$3 slots=$4 pipeline=${5:-10} from_id to_id
  from_id=$(redis_cluster_node_id "$from") to_id=$(redis_cluster_node_id "$to")
  timeout 300 redis-cli --cluster reshard "127.0.0.1:$from" --cluster-from "$from_id" --cluster-to "$to_id" \
    --cluster-slots "$slots" --cluster-pipeline "$pipeline" --cluster-yes >"$dir/reshard.log" 2>&1 \
    || { tail -20 "$dir/reshard.log" >&2; _rc_log "reshard failed"; return 1; }
  redis_cluster_wait_ready "$dir" 60
}

# redis_cluster_fix DIR: redis-cli --cluster fix (e.g. a slot left
# migrating or importing by an interrupted reshard), then waits until ready.
redis_cluster_fix() {
  local dir=$1 p
  p=$(redis_cluster_ports "$dir" | awk '{print $1}')
  timeout 120 redis-cli --cluster fix "127.0.0.1:$p" --cluster-yes >"$dir/fix.log" 2>&1 \
    || { tail -20 "$dir/fix.log" >&2; _rc_log "cluster fix failed"; return 1; }
  redis_cluster_wait_ready "$dir" 60
}

# redis_cluster_errorstat DIR NAME: "PORT COUNT" for every running node
# whose INFO errorstats counts errors NAME (e.g. CROSSSLOT); empty if none.
redis_cluster_errorstat() {
  local dir=$1 name=$2 p count
  for p in $(redis_cluster_ports "$dir"); do
    count=$(rcli "$p" info errorstats 2>/dev/null | tr -d '\r' \
      | sed -n "s/^errorstat_$name:count=\([0-9]*\).*/\1/p")
    [[ -n $count && $count != 0 ]] && echo "$p $count"
  done
  return 0
}
