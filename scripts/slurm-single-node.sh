#!/usr/bin/env bash
# Starts a single-node SLURM cluster on this machine from Debian's packages (munge, slurmctld,
# slurmd), runs a `tapegrad tune` study as the README's array job (one shard per array task,
# `--shard $SLURM_ARRAY_TASK_ID/N`), waits for it, collects the study, stops the daemons and
# exits non-zero if anything failed (a daemon that does not come up, a task that does not
# complete, a study with trials missing).
#
# Run as root (it installs packages and starts daemons); everything else it writes is in one
# work folder, with its own slurm.conf, so the machine's /etc/slurm is left alone.
#
#   scripts/slurm-single-node.sh                      # 4 shards of a halving study on digits
#   SHARDS=8 TRIALS=64 EPOCHS=27 scripts/slurm-single-node.sh
#   SEARCH=random scripts/slurm-single-node.sh
#
# Settings (environment): TAPEGRAD (the binary; default: target/release/tapegrad, else the
# one on PATH), SHARDS (4), TRIALS (12), EPOCHS (9), SEARCH (halving | asha | random), SEED (1),
# WORK (a new folder under /tmp), TIMEOUT (seconds to wait for the job, 600), KEEP=1 (leave
# the daemons running), INSTALL=0 (do not apt-get install).
set -euo pipefail

SHARDS=${SHARDS:-4}
TRIALS=${TRIALS:-12}
EPOCHS=${EPOCHS:-9}
SEARCH=${SEARCH:-halving}
SEED=${SEED:-1}
TIMEOUT=${TIMEOUT:-600}
WORK=${WORK:-$(mktemp -d /tmp/tapegrad-slurm.XXXXXX)}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z ${TAPEGRAD:-} ]]; then
    if [[ -x $here/target/release/tapegrad ]]; then
        TAPEGRAD=$here/target/release/tapegrad
    else
        TAPEGRAD=$(command -v tapegrad) || { echo "error: no tapegrad binary (build it, or set TAPEGRAD)" >&2; exit 2; }
    fi
fi
TAPEGRAD=$(realpath "$TAPEGRAD")
say() { printf '[slurm-single-node] %s\n' "$*"; }
fail() { printf '[slurm-single-node] error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || fail "run as root: it installs packages and starts munged, slurmctld and slurmd"
if [[ ${INSTALL:-1} == 1 ]] && ! command -v slurmctld >/dev/null; then
    say "installing slurmctld slurmd munge slurm-client"
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurmctld slurmd munge slurm-client >"$WORK/apt.log" 2>&1 \
        || fail "apt-get install failed; see $WORK/apt.log"
fi

host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
mkdir -p "$WORK"/{state,spool,munge}
conf=$WORK/slurm.conf
cat >"$conf" <<EOF
# A one-node cluster for tapegrad's tune array job (written by scripts/slurm-single-node.sh).
ClusterName=tapegrad
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=tune Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf

# munge: its own key and socket in the work folder, so an installed munged is not disturbed.
socket=$WORK/munge/munge.socket
key=$WORK/munge/munge.key
dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
chmod 400 "$key"
munged --force --key-file="$key" --socket="$socket" --pid-file="$WORK/munge/munged.pid" \
    --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed" \
    || fail "munged did not start; see $WORK/munge/munged.log"
cat >>"$conf" <<EOF
AuthInfo=socket=$socket
EOF

stop() {
    if [[ ${KEEP:-0} == 1 ]]; then
        say "daemons left running (KEEP=1); SLURM_CONF=$conf"
        return
    fi
    local pids=()
    for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid" "$WORK/munge/munged.pid"; do
        [[ -s $pidfile ]] && pids+=("$(cat "$pidfile")")
    done
    ((${#pids[@]})) || return 0
    kill "${pids[@]}" 2>/dev/null || true
    # Wait (up to 10 s) until they have shut down, so the script ends with the cluster gone.
    for _ in $(seq 50); do
        kill -0 "${pids[@]}" 2>/dev/null || break
        sleep 0.2
    done
}
trap stop EXIT

slurmctld -f "$conf" || fail "slurmctld did not start; see $WORK/slurmctld.log"
slurmd -f "$conf" || fail "slurmd did not start; see $WORK/slurmd.log"
for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    [[ $state == idle* ]] && break
    [[ $state == down* || $state == drain* ]] && scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 0.5
done
[[ $state == idle* ]] || fail "node $host is '$state', not idle, after 30 s; see $WORK/slurmd.log and $WORK/slurmctld.log"
say "cluster up: node $host ($cpus CPUs, $memory MB), config $conf"

study=$WORK/study
last=$((SHARDS - 1))
flags="--trials $TRIALS --epochs $EPOCHS --search $SEARCH --seed $SEED --threads 1"
started=$(date +%s%N)
job=$(sbatch --parsable --array=0-$last --output="$WORK/shard-%a.out" --wrap \
    "$TAPEGRAD tune $flags --shard \$SLURM_ARRAY_TASK_ID/$SHARDS --resume --out $study")
say "submitted array job $job: sbatch --array=0-$last ... tapegrad tune $flags --shard \$SLURM_ARRAY_TASK_ID/$SHARDS --resume --out $study"
deadline=$(($(date +%s) + TIMEOUT))
while [[ -n $(squeue -h -j "$job" 2>/dev/null) ]]; do
    (($(date +%s) < deadline)) || { scancel "$job"; fail "job $job still running after $TIMEOUT s"; }
    sleep 1
done
ms=$((($(date +%s%N) - started) / 1000000))
seconds=$((ms / 1000)).$(printf %03d $((ms % 1000)))
failed=0
for task in $(seq 0 "$last"); do
    line=$(scontrol -o show job "${job}_$task" 2>/dev/null || true)
    state=$(grep -o 'JobState=[A-Z_]*' <<<"$line" | head -1 | cut -d= -f2)
    code=$(grep -o ' ExitCode=[0-9:]*' <<<"$line" | head -1 | cut -d= -f2)
    say "task $task: ${state:-unknown} (exit ${code:-?}); its output:"
    sed 's/^/    /' "$WORK/shard-$task.out" 2>/dev/null || true
    [[ $state == COMPLETED ]] || failed=1
done
((failed == 0)) || fail "some array tasks did not complete (outputs above, logs in $WORK)"
say "array job done in $seconds s; collecting"
"$TAPEGRAD" tune collect "$study" || fail "tune collect failed (exit $?)"
say "ok: study in $study (results.csv, model.safetensors, config.toml, tune.png)"
