#!/usr/bin/env bash
# Stop the SLURM test cluster daemons that .ci/slurm/start.sh started, by recorded PID only.
#
# Jobs still known to the cluster are cancelled first (by job id, while slurmctld is ours), so no
# job steps outlive slurmd. Each daemon gets SIGTERM, up to MOREDATA_SLURM_STOP_WAIT seconds
# (default 10) to exit, then SIGKILL. A recorded PID whose process start time no longer matches
# (the daemon died and the PID was reused) is left alone. Daemons this script did not start are
# never touched. Exits non-zero if a recorded daemon could not be stopped.
set -euo pipefail

state="${MOREDATA_SLURM_STATE:-/tmp/moredata-slurm}"
piddir="$state/pids"
wait_s="${MOREDATA_SLURM_STOP_WAIT:-10}"

say() { echo "slurm/stop: $*" >&2; }

if [ ! -d "$piddir" ] || [ -z "$(ls -A "$piddir" 2>/dev/null)" ]; then
    say "nothing recorded in $piddir: no daemons to stop"
    exit 0
fi

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# ours NAME: print the PID recorded for NAME if that very process is still alive.
ours() {
    local pid start
    read -r pid start <"$piddir/$1" 2>/dev/null || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -n "$start" ] && [ "$(starttime "$pid")" = "$start" ] || return 1
    # A zombie (exited, not yet reaped by PID 1) counts as stopped.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    echo "$pid"
}

# Cancel leftover jobs while our controller still runs (their slurmstepd would outlive slurmd).
if ours slurmctld >/dev/null && command -v squeue >/dev/null 2>&1; then
    jobs="$(squeue -h -t PENDING,RUNNING,SUSPENDED,COMPLETING -o '%i' 2>/dev/null | tr '\n' ' ')" || jobs=""
    if [ -n "${jobs// /}" ]; then
        say "cancelling jobs still in the queue: $jobs"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        for ((i = 0; i < wait_s; i++)); do
            [ -z "$(squeue -h -t RUNNING,COMPLETING -o '%i' 2>/dev/null)" ] && break
            sleep 1
        done
    fi
fi

status=0
for name in slurmd slurmctld munged; do
    [ -f "$piddir/$name" ] || continue
    if ! pid="$(ours "$name")"; then
        say "$name: recorded process is gone already"
        rm -f "$piddir/$name"
        continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait_s * 5; i++)); do
        ours "$name" >/dev/null || break
        sleep 0.2
    done
    if ours "$name" >/dev/null; then
        say "$name (pid $pid) ignored SIGTERM for ${wait_s}s: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    if ours "$name" >/dev/null; then
        say "ERROR: could not stop $name (pid $pid)"
        status=1
    else
        say "stopped $name (pid $pid)"
        rm -f "$piddir/$name"
    fi
done
exit "$status"
