#!/usr/bin/env bash
# Development / CI bootstrap for the consular project. Idempotent: a second run
# only checks that everything is in place (well under a second).
#
# Usage:
#   scripts/bootstrap.sh           set up everything (see the steps below)
#   scripts/bootstrap.sh venv      only create/update the Python virtualenv
#   scripts/bootstrap.sh stop-db   stop the project's private PostgreSQL cluster
#                                  (`pg_ctl stop -m fast`); the next bootstrap
#                                  (or `make run` / `make test`) starts it again
#
# Steps:
#   1. .venv: created with `python3 -m venv`; `pip install -r requirements-dev.txt`
#      runs only when requirements*.txt changed since the last successful install
#      (sha256 stamp in .venv/.requirements.sha256).
#   2. System packages (Debian): PostgreSQL 15 server + PostGIS 3 when
#      DATABASE_URL is not set, and always the PostgreSQL 15 client (pg_dump,
#      psql). Installed with apt-get when running as root; otherwise the exact
#      command to run is printed and the script exits 1.
#   3. When DATABASE_URL is not set in the environment: a private PostgreSQL
#      cluster that listens on a UNIX socket only (no TCP at all), so it can
#      never clash with a server on port 5432 (e.g. Debian's "main" cluster,
#      which this script never touches). Its URL is written to .local/dev.env:
#        DATABASE_URL=postgres://consular@%2Ftmp%2Fconsular-pg-<hash>/consular
#      where <hash> is the first 10 hex digits of sha1(absolute project path).
#      Cluster owner / data directory:
#        non-root: the current user, $PROJECT/.local/pgdata
#        root:     the `postgres` user, /var/lib/postgresql/consular-<hash>
#      Socket directory: /tmp/consular-pg-<hash> (mode 0700, cluster owner).
#      The cluster is marked with the random id in .local/cluster-id: a root
#      cluster left by an earlier checkout at the same path (its .local/, and the
#      keys that could read its data, gone with it) is replaced by an empty one.
#   4. The officer console's front-end packages (Leaflet and Leaflet-Geoman, pinned in
#      console/frontend/package-lock.json) installed with `npm ci` from the npm registry
#      into console/frontend/node_modules, served as local static files; Node.js and npm
#      from Debian's packages when missing. Again only when the lock file changed.
#   5. With BOOTSTRAP_BROWSER=1 (`make test` sets it): Chromium and ChromeDriver from
#      Debian's packages, for the console's browser tests.
#   6. Development secrets (SECRET_KEY, BLIND_INDEX_KEY) are generated into
#      .local/dev.env if missing (.local/ is 0700, dev.env 0600); master keys
#      into .local/master-keys, named by MASTER_KEYS_FILE in dev.env.
#
# When DATABASE_URL *is* set in the environment, no local cluster is created,
# started or stopped, and only the PostgreSQL client package is required.
#
# Environment knobs:
#   DATABASE_URL  use this database instead of the private local cluster
#   PG_BIN_DIR    PostgreSQL binary directory (default /usr/lib/postgresql/15/bin);
#                 pointing it at a non-existent path simulates missing packages
#   PYTHON        interpreter used to create .venv (default python3)

set -euo pipefail

PROJECT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$PROJECT"

PG_BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"
PG_EXTENSION_DIR="/usr/share/postgresql/15/extension"
PYTHON="${PYTHON:-python3}"
VENV="$PROJECT/.venv"
LOCAL_DIR="$PROJECT/.local"
DEV_ENV="$LOCAL_DIR/dev.env"
DB_NAME="consular"
DB_USER="consular"

HASH="$(printf '%s' "$PROJECT" | sha1sum | cut -c1-10)"
SOCK_DIR="/tmp/consular-pg-$HASH"

if [[ $(id -u) -eq 0 ]]; then
  IS_ROOT=1
  PG_OWNER="postgres"
  PGDATA_DIR="/var/lib/postgresql/consular-$HASH"
else
  IS_ROOT=0
  PG_OWNER="$(id -un)"
  PGDATA_DIR="$LOCAL_DIR/pgdata"
fi

# "Not set" includes "set to the empty string".
USE_LOCAL_DB=1
if [[ -n "${DATABASE_URL:-}" ]]; then
  USE_LOCAL_DB=0
fi

# Our own client calls always name host, user and database explicitly; make sure
# nothing from the caller's libpq environment (PGPORT, PGSERVICE...) leaks in.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGSERVICE PGSERVICEFILE \
  PGOPTIONS PGPASSWORD PGPASSFILE PGSSLMODE PGTARGETSESSIONATTRS PGDATA

log() { printf 'bootstrap: %s\n' "$*"; }
die() {
  printf 'bootstrap: error: %s\n' "$*" >&2
  exit 1
}

# Run a command as the cluster owner. cd / first so that the postgres user never
# needs access to the caller's working directory.
as_owner() {
  if [[ $IS_ROOT -eq 1 ]]; then
    (cd / && runuser -u "$PG_OWNER" -- "$@")
  else
    "$@"
  fi
}

# ---------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------

# Install Debian packages (root) or print the command to do so (non-root).
apt_install() {
  local pkgs=("$@")
  if [[ $IS_ROOT -eq 1 ]]; then
    log "installing Debian packages: ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # fd 9 (the bootstrap lock) is closed: package scripts may start services.
    apt-get update -qq >/dev/null 9>&-
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 9>&-
  else
    {
      printf 'bootstrap: missing Debian packages: %s\n' "${pkgs[*]}"
      printf 'bootstrap: install them with:\n'
      printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' "${pkgs[*]}"
    } >&2
    exit 1
  fi
}

missing_packages() {
  local missing=()
  if [[ $USE_LOCAL_DB -eq 1 ]]; then
    [[ -x "$PG_BIN_DIR/pg_ctl" ]] || missing+=(postgresql-15)
    [[ -f "$PG_EXTENSION_DIR/postgis.control" ]] || missing+=(postgresql-15-postgis-3)
  fi
  if [[ ! -x "$PG_BIN_DIR/pg_dump" || ! -x "$PG_BIN_DIR/psql" ]]; then
    missing+=(postgresql-client-15)
  fi
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  if [[ "${BOOTSTRAP_BROWSER:-0}" == 1 ]]; then
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
  fi
  if ((${#missing[@]})); then
    printf '%s\n' "${missing[@]}"
  fi
}

ensure_system_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]})); then
      die "still missing after installing: ${missing[*]} (PG_BIN_DIR=$PG_BIN_DIR)"
    fi
  fi
}

# ---------------------------------------------------------------------------
# Python virtualenv
# ---------------------------------------------------------------------------

ensure_venv() {
  if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
    log "existing .venv is broken; recreating it"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1 && [[ "$PYTHON" == python3 ]]; then
      # A minimal Debian image may have no Python at all.
      apt_install python3 python3-venv
    fi
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
      if [[ $IS_ROOT -eq 1 && "$(command -v "$PYTHON")" == /usr/bin/* ]]; then
        apt_install python3-venv
      else
        die "$PYTHON cannot create virtualenvs (on Debian: sudo apt-get install -y python3-venv)"
      fi
    fi
    log "creating .venv"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi

  local stamp_file="$VENV/.requirements.sha256" want have=""
  want="$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)"
  [[ -f "$stamp_file" ]] && have="$(cat "$stamp_file")"
  if [[ "$want" != "$have" ]]; then
    log "installing Python requirements (requirements-dev.txt)"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
      "$VENV/bin/python" -m pip install -q -r requirements-dev.txt
    printf '%s\n' "$want" >"$stamp_file"
  else
    log "Python requirements up to date"
  fi
}

# ---------------------------------------------------------------------------
# The console's front-end packages
# ---------------------------------------------------------------------------

ensure_frontend() {
  local dir="$PROJECT/console/frontend" want have=""
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  [[ -f "$dir/node_modules/.lock.sha256" ]] && have="$(cat "$dir/node_modules/.lock.sha256")"
  if [[ "$want" != "$have" ]]; then
    log "installing the console's front-end packages (npm ci)"
    # --ignore-scripts: nothing of a package runs here; only its files are served.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 9>&-)
    printf '%s\n' "$want" >"$dir/node_modules/.lock.sha256"
  else
    log "front-end packages up to date"
  fi
}

# ---------------------------------------------------------------------------
# .local/dev.env
# ---------------------------------------------------------------------------

ensure_local_dir() {
  mkdir -p "$LOCAL_DIR"
  chmod 0700 "$LOCAL_DIR"
  if [[ ! -e "$DEV_ENV" ]]; then
    (umask 077 && : >"$DEV_ENV")
  fi
  chmod 0600 "$DEV_ENV"
}

# Set KEY=VALUE in dev.env: replaces an existing KEY line (all of them), keeps
# every other line. The file is only rewritten when its content changes.
set_env_line() {
  local key="$1" value="$2" tmp
  if grep -qxF -- "$key=$value" "$DEV_ENV" && [[ $(grep -c "^$key=" "$DEV_ENV") -eq 1 ]]; then
    return 0
  fi
  tmp="$(umask 077 && mktemp "$LOCAL_DIR/.dev.env.XXXXXX")"
  {
    grep -v "^$key=" "$DEV_ENV" || true
    printf '%s=%s\n' "$key" "$value"
  } >"$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$DEV_ENV"
  log "updated $key in .local/dev.env"
}

has_env_key() { grep -q "^$1=." "$DEV_ENV"; }

# Append missing development secrets. Values are generated by Python's
# `secrets` module and never printed.
ensure_secrets() {
  local key value added=()
  # Master keys live in their own file so `manage.py rotate_keys` can append a
  # new version to it (an environment variable cannot be changed from inside).
  if ! has_env_key MASTER_KEYS && ! has_env_key MASTER_KEYS_FILE; then
    local key_file="$LOCAL_DIR/master-keys"
    if [[ ! -s "$key_file" ]]; then
      (umask 077 && "$PYTHON" -c 'import base64, secrets; print("1:" + base64.b64encode(secrets.token_bytes(32)).decode())' >"$key_file")
    fi
    chmod 0600 "$key_file"
    set_env_line MASTER_KEYS_FILE "$key_file" >/dev/null
    added+=(MASTER_KEYS_FILE)
  fi
  for key in SECRET_KEY BLIND_INDEX_KEY; do
    has_env_key "$key" && continue
    case "$key" in
      SECRET_KEY)
        value="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(64)[:50])')" ;;
      BLIND_INDEX_KEY)
        value="$("$PYTHON" -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')" ;;
    esac
    [[ -n "$value" ]] || die "could not generate $key"
    # Drop an empty "KEY=" line, if any, before appending the real one.
    if grep -q "^$key=" "$DEV_ENV"; then
      set_env_line "$key" "$value" >/dev/null
    else
      # Make sure the file ends with a newline before appending.
      if [[ -s "$DEV_ENV" && -n "$(tail -c1 "$DEV_ENV")" ]]; then
        printf '\n' >>"$DEV_ENV"
      fi
      printf '%s=%s\n' "$key" "$value" >>"$DEV_ENV"
    fi
    added+=("$key")
  done
  if ((${#added[@]})); then
    log "generated development secrets in .local/dev.env: ${added[*]}"
  else
    log "development secrets present"
  fi
}

# ---------------------------------------------------------------------------
# Private PostgreSQL cluster
# ---------------------------------------------------------------------------

# fd 9 (the bootstrap lock) is closed for PostgreSQL commands: a server started
# by pg_ctl must not inherit it, or it would hold the lock forever.
pg() { as_owner "$PG_BIN_DIR/$1" "${@:2}" 9>&-; }

cluster_running() { pg pg_ctl -D "$PGDATA_DIR" status >/dev/null 2>&1; }

cluster_ready() { "$PG_BIN_DIR/pg_isready" -q -h "$SOCK_DIR" -U "$DB_USER" -d postgres >/dev/null 2>&1; }

# The socket directory lives in /tmp (short path: UNIX socket paths are limited
# to ~107 bytes) and may be wiped by a reboot, so it is (re)created on every
# start. Refuse anything that is not a real directory owned by the cluster owner.
ensure_sock_dir() {
  if [[ -L "$SOCK_DIR" ]] || { [[ -e "$SOCK_DIR" ]] && [[ ! -d "$SOCK_DIR" ]]; }; then
    die "$SOCK_DIR exists and is not a directory; remove it and re-run"
  fi
  if [[ ! -d "$SOCK_DIR" ]]; then
    if [[ $IS_ROOT -eq 1 ]]; then
      install -d -m 0700 -o "$PG_OWNER" -g "$(id -gn "$PG_OWNER")" "$SOCK_DIR"
    else
      (umask 077 && mkdir "$SOCK_DIR")
    fi
  fi
  if [[ "$(stat -c %U "$SOCK_DIR")" != "$PG_OWNER" ]]; then
    die "$SOCK_DIR is owned by $(stat -c %U "$SOCK_DIR"), expected $PG_OWNER; remove it and re-run"
  fi
  if [[ "$(stat -c %a "$SOCK_DIR")" != 700 ]]; then
    as_owner chmod 0700 "$SOCK_DIR"
  fi
}

# Settings of the private cluster, included from postgresql.conf. Rewritten only
# when they change; sets CONF_CHANGED=1 then (a running server gets restarted).
CONF_CHANGED=0
write_cluster_conf() {
  local conf="$PGDATA_DIR/consular.conf" content
  content="# Managed by scripts/bootstrap.sh - local changes are overwritten.
listen_addresses = ''                   # UNIX socket only, never TCP
unix_socket_directories = '$SOCK_DIR'
unix_socket_permissions = 0700
port = 5432                             # only names the socket file
max_connections = 100
shared_buffers = 256MB
fsync = on
synchronous_commit = off                # dev box: may lose the last commits on a crash, never corrupts
log_line_prefix = '%m [%p] '
"
  if ! as_owner test -f "$conf" || [[ "$(as_owner cat "$conf")" != "${content%$'\n'}" ]]; then
    printf '%s' "$content" | as_owner tee "$conf" >/dev/null
    CONF_CHANGED=1
  fi
  if ! as_owner grep -qxF "include = 'consular.conf'" "$PGDATA_DIR/postgresql.conf"; then
    printf "\ninclude = 'consular.conf'\n" | as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
    CONF_CHANGED=1
  fi
}

# True when PID is a live (non-zombie) postgres process.
is_live_postgres() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/comm" ]] &&
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# PIDs of live postgres processes whose working directory is our data
# directory (every postgres server process chdirs there).
datadir_users() {
  local d pids=()
  for d in /proc/[0-9]*; do
    [[ "$(readlink "$d/cwd" 2>/dev/null)" == "$PGDATA_DIR" ]] || continue
    is_live_postgres "${d#/proc/}" && pids+=("${d#/proc/}")
  done
  printf '%s' "${pids[*]}"
}

# A postmaster.pid whose process is gone (or is a zombie, or is no postgres
# after PID reuse, e.g. in a restarted container) is stale: remove it, and the
# socket lock file of the same dead server, so that pg_ctl can start.
remove_stale_pidfile() {
  local pidfile="$PGDATA_DIR/postmaster.pid" lockfile="$SOCK_DIR/.s.PGSQL.5432.lock" pid
  if as_owner test -f "$pidfile"; then
    pid="$(as_owner head -n1 "$pidfile" 2>/dev/null || true)"
    if ! is_live_postgres "$pid"; then
      # Never remove the interlock while processes of a dead postmaster still
      # use the data directory (they exit by themselves within moments).
      local tries=10 busy
      while busy="$(datadir_users)" && [[ -n "$busy" ]] && ((tries--)); do
        sleep 1
      done
      if [[ -n "$busy" ]]; then
        die "postgres processes still use $PGDATA_DIR (pids: $busy); stop them and re-run"
      fi
      log "removing stale postmaster.pid (pid ${pid:-?} is not running)"
      as_owner rm -f "$pidfile"
    fi
  fi
  if [[ -f "$lockfile" ]]; then
    pid="$(head -n1 "$lockfile" 2>/dev/null || true)"
    if ! is_live_postgres "$pid"; then
      as_owner rm -f "$lockfile" "$SOCK_DIR/.s.PGSQL.5432"
    fi
  fi
}

start_cluster() {
  ensure_sock_dir
  remove_stale_pidfile
  log "starting local PostgreSQL (log: $PGDATA_DIR/server.log)"
  if ! pg pg_ctl -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 start >/dev/null; then
    as_owner tail -n 20 "$PGDATA_DIR/server.log" >&2 || true
    die "could not start PostgreSQL in $PGDATA_DIR"
  fi
}

ensure_cluster() {
  if [[ $IS_ROOT -eq 1 ]]; then
    id "$PG_OWNER" >/dev/null 2>&1 || die "system user $PG_OWNER does not exist (is postgresql-15 installed?)"
    if [[ ! -d /var/lib/postgresql ]]; then
      install -d -m 0755 -o "$PG_OWNER" -g "$(id -gn "$PG_OWNER")" /var/lib/postgresql
    fi
  fi

  if as_owner test -f "$PGDATA_DIR/PG_VERSION" && ! cluster_is_ours; then
    replace_cluster
  fi
  if ! as_owner test -f "$PGDATA_DIR/PG_VERSION"; then
    if as_owner test -e "$PGDATA_DIR" && [[ -n "$(as_owner ls -A "$PGDATA_DIR")" ]]; then
      die "$PGDATA_DIR exists but is not a PostgreSQL data directory; remove it and re-run"
    fi
    log "initialising local PostgreSQL cluster in $PGDATA_DIR"
    [[ $IS_ROOT -eq 1 ]] || mkdir -p "$LOCAL_DIR"
    pg initdb -D "$PGDATA_DIR" --auth=trust -U "$DB_USER" -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  claim_cluster

  write_cluster_conf
  remove_stale_pidfile

  if cluster_running; then
    if ((CONF_CHANGED)); then
      log "cluster settings changed; restarting local PostgreSQL"
      ensure_sock_dir
      pg pg_ctl -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 -m fast restart >/dev/null
    elif ! cluster_ready; then
      # Running but not answering on its socket (still starting up, or /tmp
      # was cleaned under it): give it a moment, then restart it.
      local tries=5
      if [[ ! -S "$SOCK_DIR/.s.PGSQL.5432" ]]; then
        tries=0 # socket gone: no point in waiting
      fi
      while ((tries--)) && ! cluster_ready; do
        sleep 1
      done
      if ! cluster_ready; then
        log "local PostgreSQL is not answering on $SOCK_DIR; restarting it"
        ensure_sock_dir
        pg pg_ctl -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 -m fast restart >/dev/null
      fi
    else
      log "local PostgreSQL is running"
    fi
  else
    start_cluster
  fi

  local psql=("$PG_BIN_DIR/psql" -X -q -h "$SOCK_DIR" -U "$DB_USER")
  if [[ "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" != 1 ]]; then
    log "creating database $DB_NAME"
    "$PG_BIN_DIR/createdb" -h "$SOCK_DIR" -U "$DB_USER" "$DB_NAME"
  fi

  local encoded_sock url
  encoded_sock="${SOCK_DIR//\//%2F}"
  url="postgres://$DB_USER@$encoded_sock/$DB_NAME"
  set_env_line DATABASE_URL "$url"

  # Connect exactly the way the application will: through the URL.
  if [[ "$("$PG_BIN_DIR/psql" -X -q "$url" -tAc 'SELECT 1')" != 1 ]]; then
    die "cannot connect to $url"
  fi
  log "database ready: $url"
}

# As root the cluster's data lives outside the checkout, keyed by its path, so it
# outlives a checkout removed and cloned again at the same path; the new checkout's
# .local/ has new keys, which cannot read the data the old keys encrypted. So a
# cluster records which checkout's .local/ it belongs to (a random id in both).
CLUSTER_ID_FILE="$LOCAL_DIR/cluster-id"
CLUSTER_ID_MARK="consular-checkout-id"

cluster_is_ours() {
  local mine theirs
  mine="$(cat "$CLUSTER_ID_FILE" 2>/dev/null || true)"
  theirs="$(as_owner cat "$PGDATA_DIR/$CLUSTER_ID_MARK" 2>/dev/null || true)"
  if [[ -n "$theirs" ]]; then
    [[ "$mine" == "$theirs" ]]
  else
    # Made before clusters were marked: ours if this checkout's .local/ is not new.
    [[ -n "$mine" || $DEV_ENV_EXISTED -eq 1 ]]
  fi
}

claim_cluster() {
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    (umask 077 && "$PYTHON" -c 'import secrets; print(secrets.token_hex(16))' >"$CLUSTER_ID_FILE")
  fi
  if [[ "$(as_owner cat "$PGDATA_DIR/$CLUSTER_ID_MARK" 2>/dev/null || true)" != "$(cat "$CLUSTER_ID_FILE")" ]]; then
    as_owner tee "$PGDATA_DIR/$CLUSTER_ID_MARK" <"$CLUSTER_ID_FILE" >/dev/null
  fi
}

replace_cluster() {
  log "the local cluster in $PGDATA_DIR belongs to an earlier checkout at this path, whose .local/ (and keys) are gone:"
  log "its data can no longer be read; replacing it with an empty cluster"
  if cluster_running; then
    pg pg_ctl -D "$PGDATA_DIR" -w -m fast stop >/dev/null
  fi
  as_owner rm -rf "$PGDATA_DIR"
}

stop_cluster() {
  if ! as_owner test -f "$PGDATA_DIR/PG_VERSION" 2>/dev/null; then
    log "no local PostgreSQL cluster at $PGDATA_DIR"
    return 0
  fi
  if cluster_running; then
    log "stopping local PostgreSQL ($PGDATA_DIR)"
    pg pg_ctl -D "$PGDATA_DIR" -w -m fast stop >/dev/null
  else
    log "local PostgreSQL is not running"
  fi
}

# ---------------------------------------------------------------------------

# Serialise concurrent runs (e.g. `make test` in two terminals).
take_lock() {
  mkdir -p "$LOCAL_DIR"
  chmod 0700 "$LOCAL_DIR"
  exec 9>>"$LOCAL_DIR/.bootstrap.lock"
  if ! flock -n 9; then
    log "waiting for another bootstrap run to finish"
    flock 9
  fi
}

main() {
  case "${1:-all}" in
    all) take_lock ;;
    venv)
      take_lock
      ensure_venv
      return 0
      ;;
    stop-db)
      [[ -x "$PG_BIN_DIR/pg_ctl" ]] || die "$PG_BIN_DIR/pg_ctl not found"
      stop_cluster
      return 0
      ;;
    -h | --help | help)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      return 0
      ;;
    *)
      printf 'usage: %s [all|venv|stop-db]\n' "$0" >&2
      return 2
      ;;
  esac

  ensure_venv
  ensure_system_packages
  ensure_frontend
  DEV_ENV_EXISTED=0
  [[ -s "$DEV_ENV" ]] && DEV_ENV_EXISTED=1
  ensure_local_dir
  if [[ $USE_LOCAL_DB -eq 1 ]]; then
    ensure_cluster
  else
    log "DATABASE_URL is set in the environment; not using a local cluster"
  fi
  ensure_secrets
  log "done"
}

main "$@"
