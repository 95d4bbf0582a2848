#!/usr/bin/env bash
# Run the web server (gunicorn) and the task worker (django-q2 qcluster) in the
# foreground. Run scripts/bootstrap.sh (or `make run`) first.
#
# Environment:
#   HOST             bind address            (default 127.0.0.1)
#   PORT             bind port               (default 8000)
#   WEB_CONCURRENCY  gunicorn worker processes (default 5)
#   WEB_THREADS      threads per worker      (default 1: sync workers; >1: gthread)
#   WEB_TIMEOUT      seconds a request may run before its worker is replaced (default 120)
#   (read by config/gunicorn_conf.py)
#   SERVE_STOP_TIMEOUT  seconds to wait for a graceful stop before SIGKILL (default 150: longer
#                    than a worker task may run, Q_TASK_TIMEOUT_SECONDS, so a send is not cut off)
#
# Ctrl-C (SIGINT) or SIGTERM stops both processes gracefully (SIGTERM to each,
# then waits; a second Ctrl-C kills them). If either process exits on its own,
# the other is stopped too and the script exits non-zero.
#
# gunicorn's access log is deliberately NOT enabled: its format contains query
# strings, which must never be logged. The Django app logs requests itself.

set -euo pipefail

PROJECT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$PROJECT"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
STOP_TIMEOUT="${SERVE_STOP_TIMEOUT:-150}"

log() { printf 'serve: %s\n' "$*" >&2; }

for exe in .venv/bin/gunicorn .venv/bin/python; do
  if [[ ! -x "$exe" ]]; then
    log "$exe not found; run scripts/bootstrap.sh first"
    exit 1
  fi
done

# IPv6 literals need brackets, both in the bind address and in URLs.
if [[ "$HOST" == *:* && "$HOST" != \[* ]]; then
  bind_host="[$HOST]"
else
  bind_host="$HOST"
fi
case "$HOST" in
  0.0.0.0 | "") url_host="127.0.0.1" ;;
  :: | "[::]") url_host="[::1]" ;;
  *) url_host="$bind_host" ;;
esac

# config/gunicorn_conf.py: workers, preloading, JSON logging, access log off.
web_cmd=(
  .venv/bin/gunicorn config.wsgi:application
  --config python:config.gunicorn_conf
  --bind "$bind_host:$PORT"
)
worker_cmd=(.venv/bin/python manage.py qcluster)

WEB_PID=""
WORKER_PID=""
SIGNALS=0

children() {
  local pid
  for pid in "$WEB_PID" "$WORKER_PID"; do
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
  done
  return 0
}

signal_children() {
  local sig="$1" pid
  for pid in $(children); do
    if [[ "$sig" == KILL ]]; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    else
      kill "-$sig" "$pid" 2>/dev/null || true
    fi
  done
}

# shellcheck disable=SC2317  # invoked through trap
on_signal() {
  SIGNALS=$((SIGNALS + 1))
  if ((SIGNALS == 1)); then
    log "received SIG$1, stopping gunicorn and qcluster"
    signal_children TERM
  else
    log "received SIG$1 again, killing gunicorn and qcluster"
    signal_children KILL
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# Wait (interruptibly) until both children are gone; SIGKILL them after
# STOP_TIMEOUT seconds.
wait_children() {
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while [[ -n "$(children)" ]]; do
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT}s, killing"
      signal_children KILL
      deadline=$((SECONDS + 5))
    fi
    sleep 0.2 || true
  done
}

# Each child runs in its own session/process group (setsid execs in place, so
# $! is the child itself): a Ctrl-C on the terminal reaches only this script,
# which then stops the children gracefully, and a forced stop can kill a
# child's whole process group.
setsid -w "${web_cmd[@]}" </dev/null &
WEB_PID=$!
setsid -w "${worker_cmd[@]}" </dev/null &
WORKER_PID=$!

log "gunicorn pid $WEB_PID, qcluster pid $WORKER_PID"
log "listening on http://$url_host:$PORT/"
log "  health:   http://$url_host:$PORT/healthz"
log "  ready:    http://$url_host:$PORT/readyz"
log "  console:  http://$url_host:$PORT/console/  (demo staff accounts: .local/demo-credentials.txt)"
log "  API docs: http://$url_host:$PORT/api/docs/"
log "  schema:   http://$url_host:$PORT/api/schema/"
log "press Ctrl-C to stop"

if ((SIGNALS)); then
  # A signal arrived while the children were being started.
  signal_children TERM
fi

status=0
exited_pid=""
while ((SIGNALS == 0)); do
  status=0
  exited_pid=""
  wait -n -p exited_pid "$WEB_PID" "$WORKER_PID" || status=$?
  if [[ -n "${exited_pid:-}" ]]; then
    break # a child exited on its own
  fi
  # Otherwise wait was interrupted by a trapped signal: the loop ends.
done

if ((SIGNALS)); then
  wait_children
  log "stopped"
  exit 0
fi

if [[ "${exited_pid:-}" == "$WEB_PID" ]]; then
  name="gunicorn" other="qcluster"
  WEB_PID=""
else
  name="qcluster" other="gunicorn"
  WORKER_PID=""
fi
log "$name exited with status $status; stopping $other"
signal_children TERM
wait_children
if ((status == 0)); then
  status=1
fi
exit "$status"
