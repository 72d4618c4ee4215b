#!/usr/bin/env bash
# Starts/stops the real Redis and MariaDB servers the integration tests run against.
#
#   scripts/services.sh start|stop|status|env
#   scripts/services.sh start-redis|stop-redis [--kill]|restart-redis [--kill]
#   scripts/services.sh start-mysql|stop-mysql [--kill]|restart-mysql [--kill]
#
# Both servers are private to this checkout: own ports, own data folders, own socket, own pid files, no
# system configuration (/etc/mysql is ignored). Installs redis-server / mariadb-server with apt-get when
# missing (fresh CI machines have neither). Every log line goes to stderr prefixed "[services]"; only `env`
# writes to stdout, so `eval "$(scripts/services.sh env)"` works.
#
# Settings (environment):
#   CACHINGGEN_REDIS_PORT      default 6391
#   CACHINGGEN_MYSQL_PORT      default 3317
#   CACHINGGEN_SERVICES_DIR    default <repo>/.artifacts/services (data, logs, pid files)
#   CACHINGGEN_REDIS_FSYNC     "always" adds --appendfsync always (default: Redis' everysec)
#   CACHINGGEN_SERVICES_TIMEOUT  seconds to wait for readiness / shutdown, default 60
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"

REDIS_PORT="${CACHINGGEN_REDIS_PORT:-6391}"
MYSQL_PORT="${CACHINGGEN_MYSQL_PORT:-3317}"
SERVICES_DIR="${CACHINGGEN_SERVICES_DIR:-$REPO/.artifacts/services}"
REDIS_FSYNC="${CACHINGGEN_REDIS_FSYNC:-}"
TIMEOUT="${CACHINGGEN_SERVICES_TIMEOUT:-60}"

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
is_port "$REDIS_PORT" || { echo "[services] ERROR: CACHINGGEN_REDIS_PORT='$REDIS_PORT' is not a port number" >&2; exit 1; }
is_port "$MYSQL_PORT" || { echo "[services] ERROR: CACHINGGEN_MYSQL_PORT='$MYSQL_PORT' is not a port number" >&2; exit 1; }
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "[services] ERROR: CACHINGGEN_SERVICES_TIMEOUT='$TIMEOUT' is not a number of seconds" >&2; exit 1; }

MYSQL_DATABASE="cachinggen_test"
MYSQL_USER="cachinggen"
MYSQL_PASSWORD="cachinggen"

mkdir -p "$SERVICES_DIR"
SERVICES_DIR="$(cd "$SERVICES_DIR" && pwd)"

REDIS_DIR="$SERVICES_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

MYSQL_DIR="$SERVICES_DIR/mysql"
MYSQL_DATADIR="$MYSQL_DIR/data"
MYSQL_PIDFILE="$MYSQL_DIR/mysqld.pid"
MYSQL_LOG="$MYSQL_DIR/mysqld.log"
MYSQL_INSTALL_LOG="$MYSQL_DIR/install.log"
MYSQL_INSTALLED_MARKER="$MYSQL_DIR/.installed"
MYSQL_SOCKET="$MYSQL_DIR/mysqld.sock"
# Unix socket paths are limited to 107 bytes; deep checkouts fall back to a per-directory path in /tmp.
if [ "${#MYSQL_SOCKET}" -gt 100 ]; then
  MYSQL_SOCKET="/tmp/cachinggen-mysqld-$(printf '%s' "$MYSQL_DIR" | cksum | cut -d' ' -f1).sock"
fi

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- helpers

# Resolves a binary on PATH or in the sbin folders (mariadbd lives in /usr/sbin, not on a non-root PATH).
find_bin() {
  local name="$1" dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in /usr/sbin /usr/local/sbin /sbin /usr/bin /usr/local/bin; do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

APT_UPDATED=0
apt_install() {
  local pkgs=("$@") sudo=()
  command -v apt-get >/dev/null 2>&1 || die "missing ${pkgs[*]} and apt-get is not available; install them yourself"
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${pkgs[*]}; not root and no sudo to apt-get install them"
    sudo=(sudo -n)
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install ${pkgs[*]} (package scripts may print 'policy-rc.d denied execution': harmless)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2 \
    || die "apt-get install ${pkgs[*]} failed"
}

ensure_redis_installed() {
  if ! find_bin redis-server >/dev/null || ! find_bin redis-cli >/dev/null; then
    apt_install redis-server
  fi
  REDIS_SERVER="$(find_bin redis-server)" || die "redis-server not found after install"
  REDIS_CLI="$(find_bin redis-cli)" || die "redis-cli not found after install"
}

ensure_mysql_installed() {
  if ! find_bin mariadbd >/dev/null || ! find_bin mariadb-install-db >/dev/null \
     || ! find_bin mariadb-admin >/dev/null || ! find_bin mariadb >/dev/null; then
    apt_install mariadb-server mariadb-client
  fi
  MARIADBD="$(find_bin mariadbd)" || die "mariadbd not found after install"
  MARIADB_INSTALL_DB="$(find_bin mariadb-install-db)" || die "mariadb-install-db not found after install"
  MARIADB_ADMIN="$(find_bin mariadb-admin)" || die "mariadb-admin not found after install"
  MARIADB="$(find_bin mariadb)" || die "mariadb (client) not found after install"
}

# Prints the pid recorded in $1 when that process is alive and its command is $2; fails otherwise.
live_pid() {
  local pidfile="$1" comm="$2" pid actual
  [ -f "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/comm" ]; then actual="$(cat "/proc/$pid/comm")"; else actual="$(ps -p "$pid" -o comm= 2>/dev/null || true)"; fi
  case "$actual" in "$comm"*) echo "$pid"; return 0 ;; esac
  return 1   # pid was reused by something else: stale pid file
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until pid $1 is gone (up to $2 seconds).
wait_exit() {
  local pid="$1" secs="$2" i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie whose parent is us would never disappear from kill -0; the servers are daemons, so no.
    sleep 0.1
  done
  return 1
}

parse_kill_flag() {
  KILL=0
  local a
  for a in "$@"; do
    case "$a" in
      --kill) KILL=1 ;;
      *) die "unknown option '$a' (only --kill is supported)" ;;
    esac
  done
}

# ---------------------------------------------------------------------------------------------- redis

redis_cli() { "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_ping() { [ "$(redis_cli ping 2>/dev/null || true)" = "PONG" ]; }

start_redis() {
  ensure_redis_installed
  local pid
  if pid="$(live_pid "$REDIS_PIDFILE" redis-server)"; then
    if redis_ping; then log "redis already running (pid $pid, 127.0.0.1:$REDIS_PORT)"; return 0; fi
    log "redis pid $pid is alive but not answering yet; waiting"
  else
    rm -f "$REDIS_PIDFILE"
    if port_in_use "$REDIS_PORT"; then
      die "port $REDIS_PORT is already in use by a process that is not our redis (no live pid in $REDIS_PIDFILE); set CACHINGGEN_REDIS_PORT or stop it"
    fi
    mkdir -p "$REDIS_DIR"
    local args=(--port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode no
      --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --dir "$REDIS_DIR"
      --appendonly yes --save "")
    if [ "$REDIS_FSYNC" = "always" ]; then args+=(--appendfsync always); fi
    log "starting redis on 127.0.0.1:$REDIS_PORT (dir $REDIS_DIR${REDIS_FSYNC:+, appendfsync $REDIS_FSYNC})"
    "$REDIS_SERVER" "${args[@]}" >>"$REDIS_LOG" 2>&1 || die "redis-server failed to start; see $REDIS_LOG"
  fi
  local i
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    if redis_ping; then
      log "redis ready on 127.0.0.1:$REDIS_PORT (pid $(live_pid "$REDIS_PIDFILE" redis-server || echo '?'))"
      return 0
    fi
    # Daemonized redis writes its pid file right away; if it died (bad config, AOF damage) stop waiting.
    if [ "$i" -ge 20 ] && ! live_pid "$REDIS_PIDFILE" redis-server >/dev/null; then
      die "redis exited during startup; see $REDIS_LOG"
    fi
    sleep 0.1
  done
  die "redis not ready on 127.0.0.1:$REDIS_PORT after ${TIMEOUT}s; see $REDIS_LOG"
}

stop_redis() {
  parse_kill_flag "$@"
  ensure_redis_installed
  local pid
  if ! pid="$(live_pid "$REDIS_PIDFILE" redis-server)"; then
    rm -f "$REDIS_PIDFILE"
    log "redis not running"
    return 0
  fi
  if [ "$KILL" -eq 1 ]; then
    log "killing redis (SIGKILL, pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die "redis pid $pid survived SIGKILL"
    rm -f "$REDIS_PIDFILE"
    return 0
  fi
  log "stopping redis (pid $pid)"
  # SHUTDOWN NOSAVE skips the RDB snapshot (there are no save points anyway); the AOF is still flushed.
  redis_cli shutdown nosave >/dev/null 2>&1 || true
  if ! wait_exit "$pid" "$TIMEOUT"; then
    log "redis did not shut down in ${TIMEOUT}s; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_exit "$pid" 10; then
      log "redis still alive; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_exit "$pid" 10 || die "redis pid $pid survived SIGKILL"
    fi
  fi
  rm -f "$REDIS_PIDFILE"
  log "redis stopped"
}

# ---------------------------------------------------------------------------------------------- mysql

mysql_admin() { "$MARIADB_ADMIN" --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" -uroot "$@"; }

mysql_ping() { mysql_admin --connect-timeout=2 ping >/dev/null 2>&1; }

mysql_user_args() {
  # Run as root only when we are root (mariadbd refuses to run as root unless told to).
  if [ "$(id -u)" -eq 0 ]; then echo "--user=root"; fi
}

install_mysql_datadir() {
  if [ -f "$MYSQL_INSTALLED_MARKER" ] && [ -d "$MYSQL_DATADIR/mysql" ]; then return 0; fi
  log "initialising MariaDB datadir $MYSQL_DATADIR"
  rm -rf "$MYSQL_DATADIR" "$MYSQL_INSTALLED_MARKER"
  mkdir -p "$MYSQL_DATADIR"
  # shellcheck disable=SC2046
  "$MARIADB_INSTALL_DB" --no-defaults $(mysql_user_args) --datadir="$MYSQL_DATADIR" \
    --auth-root-authentication-method=normal --skip-test-db >"$MYSQL_INSTALL_LOG" 2>&1 \
    || die "mariadb-install-db failed; see $MYSQL_INSTALL_LOG"
  touch "$MYSQL_INSTALLED_MARKER"
}

start_mysql() {
  ensure_mysql_installed
  mkdir -p "$MYSQL_DIR"
  local pid
  if pid="$(live_pid "$MYSQL_PIDFILE" mariadbd)"; then
    if mysql_ping; then log "mariadb already running (pid $pid, 127.0.0.1:$MYSQL_PORT)"; bootstrap_mysql; return 0; fi
    log "mariadb pid $pid is alive but not answering yet; waiting"
  else
    rm -f "$MYSQL_PIDFILE" "$MYSQL_SOCKET" "$MYSQL_SOCKET.lock"
    if port_in_use "$MYSQL_PORT"; then
      die "port $MYSQL_PORT is already in use by a process that is not our mariadb (no live pid in $MYSQL_PIDFILE); set CACHINGGEN_MYSQL_PORT or stop it"
    fi
    install_mysql_datadir
    log "starting mariadb on 127.0.0.1:$MYSQL_PORT (datadir $MYSQL_DATADIR, socket $MYSQL_SOCKET)"
    # --no-defaults: ignore /etc/mysql entirely. setsid + nohup: survive the caller's shell and its signals.
    # shellcheck disable=SC2046
    setsid nohup "$MARIADBD" --no-defaults $(mysql_user_args) \
      --datadir="$MYSQL_DATADIR" --socket="$MYSQL_SOCKET" --pid-file="$MYSQL_PIDFILE" \
      --port="$MYSQL_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
      --log-error="$MYSQL_LOG" --max-connections=500 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      </dev/null >>"$MYSQL_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$MYSQL_PIDFILE.launch"
  fi
  local i
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    if mysql_ping; then
      rm -f "$MYSQL_PIDFILE.launch"
      bootstrap_mysql
      log "mariadb ready on 127.0.0.1:$MYSQL_PORT (pid $(live_pid "$MYSQL_PIDFILE" mariadbd || echo '?'))"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$MYSQL_PIDFILE.launch"
      die "mariadb exited during startup; see $MYSQL_LOG"
    fi
    sleep 0.1
  done
  die "mariadb not ready on 127.0.0.1:$MYSQL_PORT after ${TIMEOUT}s; see $MYSQL_LOG"
}

bootstrap_mysql() {
  "$MARIADB" --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" -uroot --batch -e "
    CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;
    CREATE USER IF NOT EXISTS '$MYSQL_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
    CREATE USER IF NOT EXISTS '$MYSQL_USER'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
    GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'localhost' WITH GRANT OPTION;
  " >>"$MYSQL_LOG" 2>&1 || die "could not create database/user in mariadb; see $MYSQL_LOG"
}

# The pid of our mariadbd: from its pid file, or from the launch record while it is still starting.
mysql_pid() {
  live_pid "$MYSQL_PIDFILE" mariadbd || live_pid "$MYSQL_PIDFILE.launch" mariadbd
}

stop_mysql() {
  parse_kill_flag "$@"
  ensure_mysql_installed
  local pid
  if ! pid="$(mysql_pid)"; then
    rm -f "$MYSQL_PIDFILE" "$MYSQL_PIDFILE.launch"
    log "mariadb not running"
    return 0
  fi
  if [ "$KILL" -eq 1 ]; then
    log "killing mariadb (SIGKILL, pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die "mariadb pid $pid survived SIGKILL"
    rm -f "$MYSQL_PIDFILE" "$MYSQL_PIDFILE.launch"
    return 0
  fi
  log "stopping mariadb (pid $pid)"
  mysql_admin shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" "$TIMEOUT"; then
    log "mariadb did not shut down in ${TIMEOUT}s; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_exit "$pid" 15; then
      log "mariadb still alive; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_exit "$pid" 10 || die "mariadb pid $pid survived SIGKILL"
    fi
  fi
  rm -f "$MYSQL_PIDFILE" "$MYSQL_PIDFILE.launch"
  log "mariadb stopped"
}

# ---------------------------------------------------------------------------------------------- commands

print_env() {
  echo "export CACHINGGEN_REDIS=127.0.0.1:$REDIS_PORT"
  echo "export CACHINGGEN_MYSQL=\"Server=127.0.0.1;Port=$MYSQL_PORT;User ID=$MYSQL_USER;Password=$MYSQL_PASSWORD;Database=$MYSQL_DATABASE\""
  echo "export CACHINGGEN_SERVICES_SCRIPT=\"$SCRIPT_PATH\""
  # So that tests calling the script (stop-redis, start-mysql, ...) address these same servers.
  echo "export CACHINGGEN_SERVICES_DIR=\"$SERVICES_DIR\""
  echo "export CACHINGGEN_REDIS_PORT=$REDIS_PORT"
  echo "export CACHINGGEN_MYSQL_PORT=$MYSQL_PORT"
  if [ -n "$REDIS_FSYNC" ]; then echo "export CACHINGGEN_REDIS_FSYNC=$REDIS_FSYNC"; fi
}

status() {
  local rc=0 pid
  if pid="$(live_pid "$REDIS_PIDFILE" redis-server)"; then
    echo "redis: running (pid $pid, 127.0.0.1:$REDIS_PORT)"
  else
    echo "redis: stopped"; rc=3
  fi
  if pid="$(mysql_pid)"; then
    echo "mariadb: running (pid $pid, 127.0.0.1:$MYSQL_PORT)"
  else
    echo "mariadb: stopped"; rc=3
  fi
  return "$rc"
}

usage() {
  cat >&2 <<EOF
usage: $0 start|stop|status|env
       $0 start-redis|stop-redis [--kill]|restart-redis [--kill]
       $0 start-mysql|stop-mysql [--kill]|restart-mysql [--kill]
EOF
  exit 2
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start)         start_redis; start_mysql ;;
  stop)
    # Stop both even if the first fails.
    rc=0
    ( stop_redis ) || rc=1
    ( stop_mysql ) || rc=1
    exit "$rc" ;;
  status)        status ;;
  env)           print_env ;;
  start-redis)   start_redis ;;
  stop-redis)    stop_redis "$@" ;;
  restart-redis) stop_redis "$@"; start_redis ;;
  start-mysql)   start_mysql ;;
  stop-mysql)    stop_mysql "$@" ;;
  restart-mysql) stop_mysql "$@"; start_mysql ;;
  *)             usage ;;
esac
