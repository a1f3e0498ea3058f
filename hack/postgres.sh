#!/usr/bin/env bash
# A private PostgreSQL server for tests and demos, from Debian's `postgresql`.
#
#   hack/postgres.sh install          install Debian's postgresql when missing (root)
#   hack/postgres.sh bindir           print the folder of the server binaries
#   hack/postgres.sh start DIR PORT [PID]
#                                     create (once) and start a server whose data,
#                                     socket and log live in DIR, listening on
#                                     127.0.0.1:PORT, trust auth on loopback,
#                                     superuser "postgres", database "postgres";
#                                     with PID, a watchdog stops the server once
#                                     that process is gone (a crashed test run
#                                     leaves no server behind)
#   hack/postgres.sh stop DIR         stop that server (fine when not running)
#   hack/postgres.sh status DIR       exit 0 when that server runs
#
# Every subcommand is idempotent. PostgreSQL refuses to run as root: when started
# by root the server runs as the `postgres` system user the package creates, and
# DIR is handed to that user (its parent folders must be searchable by it).
# The server binaries are taken from /usr/lib/postgresql/<version>/bin (newest),
# not from wrappers on PATH.
set -euo pipefail

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# PG_LIB_DIR is where Debian puts the server versions (override for tests).
PG_LIB_DIR="${PG_LIB_DIR:-/usr/lib/postgresql}"

bindir() {
  local d
  d="$(ls -d "$PG_LIB_DIR"/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    printf '%s\n' "$d"
    return 0
  fi
  return 1
}

install_pg() {
  if bindir >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL server binaries not found under $PG_LIB_DIR/*/bin and not root: install Debian's postgresql package (apt-get install postgresql)"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server binaries not found and apt-get is not available: install PostgreSQL (server) manually"
  log "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  # A policy-rc.d keeps the package from starting its own cluster service; leave an
  # existing one alone.
  local own_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local rc=0
  apt-get install -y -qq postgresql >&2 || rc=$?
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$rc" = 0 ] || die "apt-get install postgresql failed (exit $rc)"
  bindir >/dev/null || die "postgresql installed but no server binaries under $PG_LIB_DIR/*/bin"
}

# as_owner runs a command as the user that owns the server: postgres when we are
# root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no postgres system user (it comes with Debian's postgresql package)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

cmd_start() {
  [ $# = 2 ] || [ $# = 3 ] || die "usage: $0 start DIR PORT [PID]"
  local port="$2" watch="${3:-}"
  [ -z "$watch" ] || [[ "$watch" =~ ^[0-9]+$ ]] || die "bad pid: $watch"
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] && [ "$port" -lt 65536 ] || die "bad port: $port"
  install_pg
  local bin dir data
  bin="$(bindir)"
  dir="$(abs_dir "$1")"
  data="$dir/data"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
    as_owner test -w "$dir" -a -x "$dir" ||
      die "$dir is not usable by the postgres user: make its parent folders searchable (chmod o+x)"
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    # A half-made data directory from an interrupted run cannot be reused.
    rm -rf "$data"
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi

  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "already running in $dir"
    start_watchdog "$dir" "$watch"
    return 0
  fi
  # The server's options live in the data directory, so that a bare
  # `pg_ctl -D DIR/data start` restarts it with the same port and socket.
  cat > "$data/postgresql.auto.conf" <<EOF
# written by hack/postgres.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
  [ "$(id -u)" != 0 ] || chown postgres: "$data/postgresql.auto.conf"
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 120 start >/dev/null ||
    { tail -n 30 "$dir/postgres.log" >&2 || true; die "starting PostgreSQL in $dir on port $port failed"; }
  log "running in $dir on 127.0.0.1:$port"
  start_watchdog "$dir" "$watch"
}

# start_watchdog DIR PID: stop the server in DIR once PID has exited; it ends
# on its own once DIR is removed (the server was stopped and its data dropped).
start_watchdog() {
  [ -n "$2" ] || return 0
  setsid bash "${BASH_SOURCE[0]}" _watch "$1" "$2" </dev/null >/dev/null 2>&1 &
}

cmd_watch() {
  local dir="$1" pid="$2"
  while kill -0 "$pid" 2>/dev/null; do
    [ -d "$dir" ] || return 0
    sleep 1
  done
  cmd_stop "$dir" || true
}

cmd_stop() {
  [ $# = 1 ] || die "usage: $0 stop DIR"
  local bin data
  [ -d "$1" ] || return 0
  data="$(cd "$1" && pwd)/data"
  [ -f "$data/PG_VERSION" ] || return 0
  bin="$(bindir)" || return 0
  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 120 stop >/dev/null || die "stopping PostgreSQL in $1 failed"
  fi
}

cmd_status() {
  [ $# = 1 ] || die "usage: $0 status DIR"
  local bin
  bin="$(bindir)" || return 1
  [ -d "$1/data" ] || return 1
  as_owner "$bin/pg_ctl" -D "$(cd "$1" && pwd)/data" status >/dev/null 2>&1
}

case "${1:-}" in
  install) shift; install_pg ;;
  bindir) shift; install_pg; bindir ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  _watch) shift; cmd_watch "$@" ;;
  *) die "usage: $0 install | bindir | start DIR PORT [PID] | stop DIR | status DIR" ;;
esac
