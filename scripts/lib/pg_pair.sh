# A PostgreSQL 15 primary and one streaming hot standby on 127.0.0.1, for
# scripts/cluster and tests/topology. Sourced after scripts/lib/common.sh
# (PG_BIN, pg_home_for, log, die). Every wait polls a condition, bounded.
#
# A node is a folder NODE_DIR (its data in NODE_DIR/data, its log in
# NODE_DIR/postgres.log), a port and a name; the name is the node's
# cluster_name and, when it streams from the other node, its
# application_name (what synchronous_standby_names and pg_stat_replication
# call it) and its replication slot's name on the primary.
#
#   pg_node_init_primary DIR PORT NAME       initdb (first use) and start
#   pg_node_make_standby DIR PORT NAME PRIMARY_PORT
#                                            pg_basebackup -R from the primary
#                                            (a slot NAME on it), start, wait
#                                            until it streams
#   pg_node_start DIR PORT NAME / pg_node_stop DIR / pg_node_kill DIR
#   pg_node_promote DIR PORT                 pg_ctl promote, wait until writable;
#                                            no synchronous standby on it until
#                                            one is attached (pg_pair_sync)
#   pg_node_rebuild DIR PORT NAME PRIMARY_PORT
#                                            an old primary made a standby of the
#                                            new one: pg_rewind, or a fresh
#                                            pg_basebackup if rewinding fails
#   pg_pair_sync PRIMARY_PORT off|on [STANDBY_NAME]
#                                            synchronous_standby_names to '' or
#                                            to the standby's name, and reload
#   pg_node_role PORT                        primary | standby | down
#   pg_pair_status PORT...                   one block per node
# shellcheck shell=bash

# Every psql call here is bounded: a server stuck in a commit must not hang
# a status or a failover.
PG_PAIR_PSQL_TIMEOUT_S=${PG_PAIR_PSQL_TIMEOUT_S:-5}
# How long a start, a promotion or a standby's catch-up may take.
PG_PAIR_WAIT_S=${PG_PAIR_WAIT_S:-60}

_pg_log() { printf 'pg-pair: %s\n' "$*" >&2; }

# pg_sql PORT SQL: one statement as postgres on 127.0.0.1:PORT (database
# postgres), unaligned tuples only; fails fast if the node is down.
pg_sql() {
  local port=$1 sql=$2
  PGCONNECT_TIMEOUT=2 timeout "$PG_PAIR_PSQL_TIMEOUT_S" \
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -XtAq -v ON_ERROR_STOP=1 -c "$sql"
}

# _pg_dir DIR: the folder the postgres user can reach (common.sh's
# pg_home_for: DIR itself, or one under /var/tmp when DIR is not traversable).
_pg_dir() { pg_home_for "$1"; }

# _pg_ctl DIR ARGS...: pg_ctl on the node's data folder, as postgres.
_pg_ctl() {
  local dir; dir=$(_pg_dir "$1"); shift
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" "$@"
}

# pg_node_role PORT: "primary", "standby" (pg_is_in_recovery()), or "down".
pg_node_role() {
  local r
  r=$(pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null) || { echo down; return 0; }
  case $r in
    f) echo primary ;;
    t) echo standby ;;
    *) echo down ;;
  esac
}

# _pg_wait_role PORT ROLE [TIMEOUT_S]
_pg_wait_role() {
  local port=$1 role=$2 deadline=$((SECONDS + ${3:-$PG_PAIR_WAIT_S}))
  while ((SECONDS < deadline)); do
    [[ $(pg_node_role "$port") == "$role" ]] && return 0
    sleep 0.1
  done
  _pg_log ":$port did not become $role within ${3:-$PG_PAIR_WAIT_S}s"
  return 1
}

# _pg_write_settings DATA: the settings both nodes share, in postgresql.conf
# (copied to a standby by pg_basebackup and pg_rewind, which is what we want:
# either node may become the primary). Per-node values (port, socket folder,
# cluster_name) are given on the command line instead, so that the copy does
# not carry the other node's. synchronous_standby_names is set with ALTER
# SYSTEM (postgresql.auto.conf), per node, by pg_pair_sync.
_pg_write_settings() {
  cat >>"$1/postgresql.conf" <<'CONF'

# --- scripts/lib/pg_pair.sh ---
listen_addresses = '127.0.0.1'
max_connections = 200
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
# A slot keeps the WAL its standby has not received; bound it so that a
# standby gone for good cannot fill the disk (it then needs a rebuild).
max_slot_wal_keep_size = '2GB'
hot_standby = on
hot_standby_feedback = on
# pg_rewind needs hint-bit changes WAL-logged (or data checksums).
wal_log_hints = on
# A commit returns once the synchronous standby has flushed its WAL
# (synchronous_standby_names names it): an acknowledged write survives the
# loss of either node.
synchronous_commit = on
# A standby asks again quickly after losing its primary.
wal_retrieve_retry_interval = '500ms'
CONF
}

# pg_node_start DIR PORT NAME: starts the node (any role) and waits until it
# accepts connections. Already running: nothing to do.
pg_node_start() {
  local dir port=$2 name=$3
  dir=$(_pg_dir "$1")
  chown postgres "$dir"
  if [[ -f $dir/data/postmaster.pid ]] && _pg_ctl "$dir" status >/dev/null 2>&1; then
    return 0
  fi
  _pg_ctl "$dir" -o "-p $port -k $dir -c cluster_name=$name" -l "$dir/postgres.log" -w -t "$PG_PAIR_WAIT_S" start \
    >/dev/null || { tail -20 "$dir/postgres.log" >&2; _pg_log "$name :$port did not start"; return 1; }
}

# pg_node_stop DIR: a fast shutdown (in-flight transactions rolled back).
pg_node_stop() {
  local dir; dir=$(_pg_dir "$1")
  [[ -f $dir/data/postmaster.pid ]] || return 0
  # A crashed node leaves its postmaster.pid: nothing to stop.
  _pg_ctl "$dir" status >/dev/null 2>&1 || return 0
  _pg_ctl "$dir" -m fast -w -t "$PG_PAIR_WAIT_S" stop >/dev/null 2>&1 || {
    _pg_log "fast stop of $dir failed; immediate"
    _pg_ctl "$dir" -m immediate -w stop >/dev/null 2>&1 || true
  }
  return 0
}

# pg_node_pid DIR: the postmaster's pid (empty if not running).
pg_node_pid() {
  local dir pid; dir=$(_pg_dir "$1")
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
  return 0
}

# pg_node_kill DIR: kill -9 of the postmaster (a crash: its backends see
# the postmaster gone and exit); waits until nothing listens any more.
pg_node_kill() {
  local dir pid; dir=$(_pg_dir "$1")
  pid=$(pg_node_pid "$dir")
  [[ -n $pid ]] || { _pg_log "$dir is not running"; return 1; }
  kill -KILL "$pid"
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    # The children exit on their own once they notice the postmaster died.
    pgrep -P "$pid" >/dev/null 2>&1 || kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  _pg_log "children of $pid still alive after 30s"
  return 1
}

# pg_node_init_primary DIR PORT NAME: initdb on first use, then start. The
# folder's data, if any, is kept whatever its role (up twice is safe).
pg_node_init_primary() {
  local dir port=$2 name=$3
  dir=$(_pg_dir "$1")
  chown postgres "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
      >/dev/null || { _pg_log "initdb failed"; return 1; }
    _pg_write_settings "$dir/data"
  fi
  pg_node_start "$dir" "$port" "$name"
}

# _pg_standby_config DATA NAME PRIMARY_PORT: what makes DATA a standby of
# the primary: standby.signal, and in postgresql.auto.conf the conninfo
# (its application_name is NAME), the slot, and no synchronous standby of
# its own (copied from the primary, it would name a node that never
# connects: a bare `pg_ctl promote` would then leave a primary whose every
# commit waits).
_pg_standby_config() {
  local data=$1 name=$2 primary=$3 auto=$1/postgresql.auto.conf
  touch "$auto"
  sed -i -E '/^[[:space:]]*(primary_conninfo|primary_slot_name|synchronous_standby_names)[[:space:]]*=/d' "$auto"
  cat >>"$auto" <<CONF
primary_conninfo = 'host=127.0.0.1 port=$primary user=postgres application_name=$name'
primary_slot_name = '$name'
synchronous_standby_names = ''
CONF
  touch "$data/standby.signal"
  chown postgres "$auto" "$data/standby.signal"
}

# _pg_slot PRIMARY_PORT NAME: (re)creates the physical slot NAME on the
# primary, reserving WAL from now (a slot left by an earlier standby of the
# same name would hold WAL from its old position).
_pg_slot() {
  local primary=$1 name=$2
  pg_sql "$primary" "SELECT pg_drop_replication_slot('$name') FROM pg_replication_slots
                      WHERE slot_name = '$name' AND NOT active" >/dev/null || return 1
  pg_sql "$primary" "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$name'" | grep -q 1 \
    || pg_sql "$primary" "SELECT pg_create_physical_replication_slot('$name', true)" >/dev/null
}

# pg_node_wait_streaming PRIMARY_PORT NAME [TIMEOUT_S]: until the primary's
# pg_stat_replication shows NAME streaming, three polls in a row 0.3 s
# apart, and replayed up to where the primary was when the wait began. (A
# standby that cannot follow the primary's timeline reconnects every 0.5 s
# and shows "streaming" for an instant each time: one look is not enough.)
pg_node_wait_streaming() {
  local primary=$1 name=$2 deadline=$((SECONDS + ${3:-$PG_PAIR_WAIT_S})) target seen=0
  target=$(pg_sql "$primary" "SELECT pg_current_wal_lsn()") || return 1
  while ((SECONDS < deadline)); do
    if [[ $(pg_sql "$primary" "SELECT state = 'streaming' AND replay_lsn >= '$target'::pg_lsn
                               FROM pg_stat_replication WHERE application_name = '$name'" 2>/dev/null) == t ]]; then
      ((++seen >= 3)) && return 0
    else
      seen=0
    fi
    sleep 0.3
  done
  _pg_log "$name is not streaming from :$primary"
  return 1
}

# pg_node_make_standby DIR PORT NAME PRIMARY_PORT: a fresh standby of the
# primary: whatever DIR held is replaced by a pg_basebackup -R (WAL streamed
# alongside, slot NAME on the primary), then started; returns once it streams.
pg_node_make_standby() {
  local dir port=$2 name=$3 primary=$4
  dir=$(_pg_dir "$1")
  chown postgres "$dir"
  pg_node_stop "$dir"
  rm -rf "$dir/data"
  _pg_slot "$primary" "$name" || { _pg_log "cannot create slot $name on :$primary"; return 1; }
  runuser -u postgres -- "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres \
    -D "$dir/data" -R -X stream -S "$name" -c fast \
    -d "host=127.0.0.1 port=$primary user=postgres application_name=$name" >"$dir/basebackup.log" 2>&1 \
    || { cat "$dir/basebackup.log" >&2; _pg_log "pg_basebackup from :$primary failed"; return 1; }
  _pg_standby_config "$dir/data" "$name" "$primary"
  pg_node_start "$dir" "$port" "$name" || return 1
  _pg_wait_role "$port" standby || return 1
  pg_node_wait_streaming "$primary" "$name"
}

# pg_node_promote DIR PORT: pg_ctl promote; returns once the node accepts
# writes. It has no synchronous standby (its synchronous_standby_names is ''
# as every standby's), so writes resume at once; attach a standby
# (pg_node_rebuild) and then pg_pair_sync PORT on to be synchronous again.
pg_node_promote() {
  local dir port=$2
  dir=$(_pg_dir "$1")
  _pg_ctl "$dir" -w -t "$PG_PAIR_WAIT_S" promote >/dev/null || { _pg_log "promote of :$port failed"; return 1; }
  _pg_wait_role "$port" primary || return 1
  # The new timeline reaches pg_control only at the next checkpoint, and
  # pg_rewind reads it there: without one, it would find the old primary
  # "on the same timeline" and rewind nothing.
  pg_sql "$port" "CHECKPOINT" >/dev/null
}

# pg_node_rebuild DIR PORT NAME PRIMARY_PORT: the old primary in DIR (stopped
# or crashed) made a standby of the new primary. pg_rewind first (it copies
# only what diverged; it runs crash recovery itself when the node was
# killed); if that fails, a full pg_basebackup.
pg_node_rebuild() {
  local dir port=$2 name=$3 primary=$4
  dir=$(_pg_dir "$1")
  pg_node_stop "$dir"
  # pg_rewind reads the source's timeline from its pg_control (see
  # pg_node_promote): a checkpoint first.
  pg_sql "$primary" "CHECKPOINT" >/dev/null || return 1
  if [[ -f $dir/data/PG_VERSION ]] && runuser -u postgres -- "$PG_BIN/pg_rewind" -D "$dir/data" \
      --source-server="host=127.0.0.1 port=$primary user=postgres dbname=postgres" >"$dir/rewind.log" 2>&1; then
    rm -f "$dir/data/postmaster.pid"
    _pg_slot "$primary" "$name" || return 1
    _pg_standby_config "$dir/data" "$name" "$primary"
    if pg_node_start "$dir" "$port" "$name" && _pg_wait_role "$port" standby 30 \
        && pg_node_wait_streaming "$primary" "$name" 30; then
      return 0
    fi
    _pg_log "the rewound node does not stream; taking a fresh base backup"
  else
    _pg_log "pg_rewind failed ($(tail -1 "$dir/rewind.log" 2>/dev/null)); taking a fresh base backup"
  fi
  pg_node_make_standby "$dir" "$port" "$name" "$primary"
}

# pg_pair_sync PRIMARY_PORT off|on [STANDBY_NAME]: the operator's switch.
# off: synchronous_standby_names = '' (commits no longer wait for a
# standby: the way out when the only synchronous standby is gone, at the
# price of writes acknowledged on one node only). on: the standby's name
# (default: the one streaming from it now). Then a reload; ALTER SYSTEM
# keeps it across restarts.
pg_pair_sync() {
  local primary=$1 mode=$2 name=${3:-}
  [[ $(pg_node_role "$primary") == primary ]] || { _pg_log ":$primary is not a primary"; return 1; }
  case $mode in
    off) name="" ;;
    on)
      if [[ -z $name ]]; then
        name=$(pg_sql "$primary" "SELECT application_name FROM pg_stat_replication
                                  WHERE state = 'streaming' ORDER BY application_name LIMIT 1")
      fi
      [[ -n $name ]] || { _pg_log "no standby streams from :$primary; nothing to make synchronous"; return 1; }
      ;;
    *) _pg_log "sync: off or on"; return 1 ;;
  esac
  pg_sql "$primary" "ALTER SYSTEM SET synchronous_standby_names = '$name'" >/dev/null || return 1
  pg_sql "$primary" "SELECT pg_reload_conf()" >/dev/null || return 1
  # The reload is asynchronous: wait until the server runs with it.
  local deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    [[ $(pg_sql "$primary" "SHOW synchronous_standby_names") == "$name" ]] && return 0
    sleep 0.05
  done
  _pg_log "synchronous_standby_names did not change on :$primary"
  return 1
}

# pg_pair_primary PORT...: the port of the (first) node that is a primary.
pg_pair_primary() {
  local p
  for p in "$@"; do
    [[ $(pg_node_role "$p") == primary ]] && { echo "$p"; return 0; }
  done
  return 1
}

# pg_pair_status PORT...: each node's role; for a primary, its synchronous
# setting and its standbys (pg_stat_replication: state, sync_state, lags);
# for a standby, what it receives and how far behind its replay is.
pg_pair_status() {
  local p role
  for p in "$@"; do
    role=$(pg_node_role "$p")
    printf '  postgres 127.0.0.1:%s  %s\n' "$p" "$role"
    case $role in
      primary)
        printf '    synchronous_standby_names=%s synchronous_commit=%s\n' \
          "'$(pg_sql "$p" "SHOW synchronous_standby_names")'" "$(pg_sql "$p" "SHOW synchronous_commit")"
        pg_sql "$p" "SELECT format('    standby %s: %s, sync_state=%s, replay_lag=%s, behind=%s bytes',
                        application_name, state, sync_state, coalesce(replay_lag::text, '0'),
                        pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))
                       FROM pg_stat_replication ORDER BY application_name" 2>/dev/null \
          | grep . || echo "    no standby connected"
        ;;
      standby)
        pg_sql "$p" "SELECT format('    receiving from %s: %s; replayed up to %s, %s bytes behind what it received; last transaction replayed: %s',
                        coalesce((SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver), '?'),
                        coalesce((SELECT status FROM pg_stat_wal_receiver), 'not connected'),
                        pg_last_wal_replay_lsn(),
                        coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text, '?'),
                        coalesce(date_trunc('milliseconds', now() - pg_last_xact_replay_timestamp())::text || ' ago', 'none since it started'))" \
          2>/dev/null || true
        ;;
    esac
  done
}
