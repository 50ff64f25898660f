#!/usr/bin/env bash
# Start a throwaway single-node SLURM cluster (munged, slurmctld, slurmd) on this machine.
#
# Idempotent: installs slurm-wlm and munge when slurmctld is missing, renders slurm.conf.in into
# /etc/slurm/slurm.conf, starts only the daemons that are not running yet and waits until sinfo
# shows the node up. The PIDs of the daemons THIS script started are recorded in
# $MOREDATA_SLURM_STATE/pids (default /tmp/moredata-slurm/pids); .ci/slurm/stop.sh stops exactly
# those. Meant for root on a Debian machine without systemd or cgroups (see CLUSTER-NOTES).
#
# Environment: MOREDATA_SLURM_STATE (state dir), MOREDATA_SLURM_WAIT (seconds to wait for the
# node, default 30).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${MOREDATA_SLURM_STATE:-/tmp/moredata-slurm}"
piddir="$state/pids"
wait_s="${MOREDATA_SLURM_WAIT:-30}"
conf=/etc/slurm/slurm.conf

say() { echo "slurm/start: $*" >&2; }
die() {
    say "ERROR: $*"
    say "daemons started so far are recorded in $piddir; stop them with .ci/slurm/stop.sh"
    exit 1
}
show_logs() {
    local f
    for f in /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log /var/log/munge/munged.log; do
        [ -f "$f" ] && { echo "---- tail $f" >&2; tail -n 15 "$f" >&2; }
    done
    return 0
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

# --- install -----------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null 2>&1; then
    say "slurmctld not found: installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null ||
        die "apt-get install slurm-wlm munge failed"
fi
for bin in slurmctld slurmd sinfo munged munge unmunge; do
    command -v "$bin" >/dev/null 2>&1 || die "$bin not found after installing slurm-wlm munge"
done

# --- config ------------------------------------------------------------------------------------
host="$(hostname -s)"
getent hosts "$host" >/dev/null ||
    die "host name '$host' does not resolve (slurmd reaches slurmctld by it): add it to /etc/hosts"
hw="$(slurmd -C 2>/dev/null | head -n 1)" || true
field() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<<"$hw"; }
cpus="$(field CPUs)"
boards="$(field Boards)"
sockets_per_board="$(field SocketsPerBoard)"
cores="$(field CoresPerSocket)"
threads="$(field ThreadsPerCore)"
mem="$(field RealMemory)"
[ -n "$cpus" ] && [ -n "$cores" ] && [ -n "$threads" ] && [ -n "$mem" ] ||
    die "could not read the hardware from 'slurmd -C' (got: '$hw')"
sockets=$(( ${boards:-1} * ${sockets_per_board:-1} ))
# At or below what slurmd measures, or the node is drained for "Low RealMemory".
real_mem=$(( mem * 95 / 100 ))

rendered="$(sed -e "s/@HOST@/$host/g" -e "s/@CPUS@/$cpus/g" -e "s/@SOCKETS@/$sockets/g" \
    -e "s/@CORES_PER_SOCKET@/$cores/g" -e "s/@THREADS_PER_CORE@/$threads/g" \
    -e "s/@REAL_MEMORY@/$real_mem/g" "$here/slurm.conf.in")"
mkdir -p /etc/slurm "$piddir"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$rendered" ]; then
    if [ -f "$conf" ] && [ ! -f "$state/slurm.conf.before" ]; then
        cp -p "$conf" "$state/slurm.conf.before"
    fi
    printf '%s\n' "$rendered" >"$conf"
    say "wrote $conf (node $host: CPUs=$cpus RealMemory=$real_mem)"
fi

mkdir -p /run/munge /run/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown munge:munge /run/munge
[ -f /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key

# --- daemons -----------------------------------------------------------------------------------
starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# running NAME PIDFILE: print the PID of a live NAME process recorded in PIDFILE.
running() {
    local pid
    pid="$(cat "$2" 2>/dev/null)" || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
    echo "$pid"
}

# start NAME PIDFILE COMMAND...: start a forking daemon unless it runs; record the PID it wrote.
start() {
    local name="$1" pidfile="$2" pid i
    shift 2
    if pid="$(running "$name" "$pidfile")"; then
        if [ -f "$piddir/$name" ]; then
            say "$name already running (pid $pid, started by this script earlier)"
        else
            say "$name already running (pid $pid, NOT started by this script: stop.sh leaves it)"
        fi
        return 0
    fi
    rm -f "$pidfile" "$piddir/$name"
    "$@" || { show_logs; die "'$*' failed"; }
    for ((i = 0; i < 50; i++)); do
        if pid="$(running "$name" "$pidfile")"; then
            echo "$pid $(starttime "$pid")" >"$piddir/$name"
            say "started $name (pid $pid)"
            return 0
        fi
        sleep 0.2
    done
    show_logs
    die "$name did not come up (no live process in $pidfile after 10 s)"
}

start munged /run/munge/munged.pid runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null || die "munge credential check failed (munge -n | unmunge)"
# -c: start from a clean state. Otherwise slurmctld restores old jobs and node states from
# StateSaveLocation, and a node drained in an earlier run (e.g. "Low RealMemory") stays drained.
start slurmctld /run/slurm/slurmctld.pid slurmctld -c
slurmd_launch=0
running slurmd /run/slurm/slurmd.pid >/dev/null || slurmd_launch="$(date +%s)"
start slurmd /run/slurm/slurmd.pid slurmd

# slurmctld restores the node's last state from StateSaveLocation, so sinfo may say "idle" before
# the new slurmd has registered: also require a SlurmdStartTime no older than our slurmd.
registered() {
    [ "$slurmd_launch" -eq 0 ] && return 0
    local t
    t="$(scontrol show node "$host" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')"
    [ -n "$t" ] && [ "$t" != None ] && [ "$(date -d "$t" +%s 2>/dev/null || echo 0)" -ge $(( slurmd_launch - 1 )) ]
}

# --- wait for the node -------------------------------------------------------------------------
deadline=$(( SECONDS + wait_s ))
node_state=""
while :; do
    node_state="$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n 1)" || node_state=""
    case "$node_state" in
        idle | mixed | allocated | completing)
            if registered; then
                say "node $host is $node_state: cluster ready (${SECONDS}s)"
                exit 0
            fi
            node_state="$node_state (restored state; slurmd not registered yet)"
            ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.5
done
show_logs
scontrol show node "$host" 2>/dev/null | grep -E 'State=|Reason=|SlurmdStartTime=' >&2 || true
die "node $host is not up after ${wait_s}s (sinfo state: '${node_state:-no answer}')"
