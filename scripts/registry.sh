#!/usr/bin/env bash
# Start or stop local OCI registries (Debian's docker-registry) for trying `wayroute push/pull`
# by hand. The test suite starts its own instances; this is for humans.
#
#   scripts/registry.sh start [port]              anonymous registry on 127.0.0.1:<port> (default 5000)
#   scripts/registry.sh start-auth [port] [user] [password]
#                                                 htpasswd (bcrypt) basic-auth registry (default 5001, wayroute/wayroute)
#   scripts/registry.sh stop [port]               stop the registry on <port> (default: all started here)
#   scripts/registry.sh status
#
# State (config, storage, pid) lives under ${WAYROUTE_REGISTRY_DIR:-${TMPDIR:-/tmp}/wayroute-registries}/<port>.
set -euo pipefail

BIN="${WAYROUTE_DOCKER_REGISTRY:-$(command -v docker-registry || echo /usr/bin/docker-registry)}"
ROOT="${WAYROUTE_REGISTRY_DIR:-${TMPDIR:-/tmp}/wayroute-registries}"

die() { echo "registry.sh: $*" >&2; exit 1; }

start() {
  local port="$1" user="${2:-}" password="${3:-}"
  [[ -x "$BIN" ]] || die "docker-registry not found (apt-get install docker-registry)"
  local dir="$ROOT/$port"
  if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    die "a registry is already running on port $port (pid $(cat "$dir/pid"))"
  fi
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn, accesslog: {disabled: true}}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port, secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
  } >"$dir/config.yml"
  if [[ -n "$user" ]]; then
    command -v htpasswd >/dev/null || die "htpasswd not found (apt-get install apache2-utils)"
    htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
    echo "auth: {htpasswd: {realm: wayroute, path: $dir/htpasswd}}" >>"$dir/config.yml"
  fi
  nohup "$BIN" serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "registry on 127.0.0.1:$port (pid $(cat "$dir/pid"))${user:+, basic auth user $user}"
      return 0
    fi
    sleep 0.1
  done
  die "registry on port $port did not come up; see $dir/log"
}

stop() {
  local ports=("$@")
  if ((${#ports[@]} == 0)); then
    [[ -d "$ROOT" ]] || return 0
    mapfile -t ports < <(ls "$ROOT")
  fi
  for port in "${ports[@]}"; do
    local pidfile="$ROOT/$port/pid"
    [[ -f "$pidfile" ]] || continue
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" && echo "stopped registry on port $port (pid $pid)"; fi
    rm -rf "${ROOT:?}/$port"
  done
}

status() {
  shopt -s nullglob
  local dirs=("$ROOT"/*/)
  ((${#dirs[@]})) || { echo "no registries"; return 0; }
  for dir in "${dirs[@]}"; do
    local port pid
    port="$(basename "$dir")"
    pid="$(cat "$dir/pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "127.0.0.1:$port running (pid $pid)"; else echo "127.0.0.1:$port stopped"; fi
  done
}

case "${1:-}" in
  start) start "${2:-5000}" ;;
  start-auth) start "${2:-5001}" "${3:-wayroute}" "${4:-wayroute}" ;;
  stop) shift; stop "$@" ;;
  status) status ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
