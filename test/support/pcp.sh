#!/bin/bash
# Starts or stops the real PCP (pmcd + pmproxy from Debian's pcp package) for the differential
# test, listening on loopback only. PID 1 here is not systemd, so the daemons are started by hand
# the way /etc/init.d/pmcd would, minus binding every interface.
#
#   pcp.sh start          start whichever of pmcd and pmproxy is not already answering, and print
#                         the name of each daemon it started, one per line (nothing if both ran)
#   pcp.sh stop NAME...   stop the named daemons (pass exactly what `start` printed), by pid file
#
# pmproxy serves HTTP on 127.0.0.1:44322 (and 44323); tests must not put anything else there.
set -euo pipefail

BIN=/usr/lib/pcp/bin
RUN=/run/pcp
PMPROXY_PORT=44322

# The daemons' parent is PID 1, which does not reap here: a zombie counts as gone.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat"; }
pmcd_up() { pminfo -h local: -f pmcd.version >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PMPROXY_PORT") 2>/dev/null; }
# Up means our pid file's pmproxy is alive and the port answers (not some other server on 44322).
pmproxy_up() { local pid; pid=$(cat "$RUN/pmproxy.pid" 2>/dev/null) && alive "$pid" && port_open; }

# up_within CHECK: poll CHECK for up to 15 s.
up_within() {
  local i
  for i in $(seq 75); do
    if "$1"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# wait_for NAME CHECK LOG: up_within, or show the log and give up.
wait_for() {
  if up_within "$2"; then return 0; fi
  echo "pcp.sh: $1 did not come up within 15 s; last lines of $3:" >&2
  tail -n 20 "$3" >&2 || true
  exit 1
}

start() {
  local started_pmcd=0
  if [ ! -x "$BIN/pmcd" ] || [ ! -x "$BIN/pmproxy" ]; then
    echo "pcp.sh: PCP is not installed; run: SYSTEMD_OFFLINE=1 apt-get install -y pcp" >&2
    exit 1
  fi
  mkdir -p "$RUN"
  chown pcp:pcp "$RUN"
  if ! pmcd_up; then
    # The package leaves the PMNS unbuilt; /etc/init.d/pmcd builds it on first start.
    if [ -f /var/lib/pcp/pmns/.NeedRebuild ]; then
      (cd /var/lib/pcp/pmns && ./Rebuild -u && rm -f .NeedRebuild && touch root) >&2
    fi
    (cd /var/log/pcp/pmcd && "$BIN/pmcd" -A -i 127.0.0.1 -x /tmp/pmcd-fatal.txt)
    wait_for pmcd pmcd_up /var/log/pcp/pmcd/pmcd.log
    started_pmcd=1
    echo pmcd
  fi
  if ! pmproxy_up; then
    if port_open; then
      echo "pcp.sh: port $PMPROXY_PORT is taken by something that is not the pmproxy of $RUN/pmproxy.pid" \
        "(a vigil started with its default port?); see 'ss -ltnp' and stop it" >&2
      [ "$started_pmcd" = 1 ] && stop pmcd
      exit 1
    fi
    # pmproxy binds without SO_REUSEADDR: a closed connection in TIME_WAIT that had 44322 as its
    # ephemeral local port (any client on this host may draw it) makes bind fail for up to 60 s,
    # and pmproxy then runs on without its HTTP port. Stop that one and try again.
    local attempt
    for attempt in 1 2 3 4; do
      (cd /var/log/pcp/pmproxy && "$BIN/pmproxy" -A -i 127.0.0.1 -x /tmp/pmproxy-fatal.txt)
      if up_within pmproxy_up; then
        echo pmproxy
        return 0
      fi
      stop pmproxy
      echo "pcp.sh: pmproxy could not listen on $PMPROXY_PORT (attempt $attempt of 4; a TIME_WAIT connection may hold it)" >&2
      if [ "$attempt" -lt 4 ]; then sleep 20; fi
    done
    echo "pcp.sh: pmproxy did not come up; last lines of /var/log/pcp/pmproxy/pmproxy.log:" >&2
    tail -n 20 /var/log/pcp/pmproxy/pmproxy.log >&2 || true
    [ "$started_pmcd" = 1 ] && stop pmcd
    exit 1
  fi
}

stop() {
  local name pid i
  for name in "$@"; do
    case "$name" in pmcd | pmproxy) ;; *) echo "pcp.sh: cannot stop '$name'; only pmcd or pmproxy" >&2; exit 2 ;; esac
    pid=$(cat "$RUN/$name.pid" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 50); do alive "$pid" || break; sleep 0.2; done
    # A pmproxy that went into a spin ignores TERM (seen with 6.0.3).
    if alive "$pid"; then kill -KILL "$pid"; fi
    rm -f "$RUN/$name.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start | stop pmcd|pmproxy..." >&2; exit 2 ;;
esac
