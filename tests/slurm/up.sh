#!/usr/bin/env bash
# A one-node Slurm cluster on this host for the tests (`just slurm` installs Debian's
# slurmctld, slurmd, slurm-client and munge first): munged, then slurmctld and slurmd with a
# minimal slurm.conf for this machine's CPUs and memory, no cgroup plugins (it runs as root,
# in a container too). Does nothing when the node already answers.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm: must run as root (it writes /etc/slurm and starts munged, slurmctld and slurmd)" >&2
  exit 1
fi

HOST=$(hostname -s)
CONF=/etc/slurm/slurm.conf
MARK="# written by mnist-burn's tests/slurm/up.sh"
LOGDIR=/var/log/slurm

healthy() {
  local st
  st=$(timeout 10 sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n1) || return 1
  case "$st" in idle|mixed|allocated|completing) ;; *) return 1 ;; esac
  # the controller may not have noticed yet that the local slurmd is gone: ask slurmd itself
  timeout 5 scontrol show slurmd >/dev/null 2>&1
}

alive() { # $1 pidfile, $2 comm; true if that pid runs that program (zombies count as dead)
  local p st
  [ -f "$1" ] && p=$(cat "$1" 2>/dev/null) && [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$2" ] || return 1
  st=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null | cut -d' ' -f1)
  [ -n "$st" ] && [ "$st" != Z ]
}

# 1. already up?
# (fast path: with our own conf and no live slurmctld here, skip sinfo, which takes ~9 s to give up)
if [ -f "$CONF" ] && { ! grep -qF "$MARK" "$CONF" || alive /run/slurmctld.pid slurmctld; } && healthy; then
  echo "slurm: cluster already up (node $HOST: $(timeout 10 sinfo -h -n "$HOST" -o %T))"
  exit 0
fi

# 2. munge
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile=/etc/munge/munge.key
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  # no working munged: clear stale pid/socket and start one as the munge user
  if [ -f /run/munge/munged.pid ]; then
    if alive /run/munge/munged.pid munged; then kill "$(cat /run/munge/munged.pid)" || true; sleep 1; fi
    rm -f /run/munge/munged.pid
  fi
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
  munge -n | unmunge >/dev/null || { echo "slurm: munged does not work" >&2; tail -n 20 /var/log/munge/munged.log >&2 || true; exit 1; }
fi

# 3. slurm.conf (only ours is rewritten; a foreign one is kept)
NCPU=$(nproc)
MEM_MIB=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
REALMEM=$(( MEM_MIB * 95 / 100 ))   # 5% margin: slurmd drains the node if RealMemory > actual
# topology as slurmd sees it (avoids "Node reconfigured socket/core boundaries"); plain CPUs= otherwise
TOPO="CPUs=$NCPU"
HW=$(slurmd -C 2>/dev/null | head -n1 || true)
if [[ $HW =~ CPUs=([0-9]+).*SocketsPerBoard=([0-9]+)\ CoresPerSocket=([0-9]+)\ ThreadsPerCore=([0-9]+) ]] \
   && [ "${BASH_REMATCH[1]}" = "$NCPU" ]; then
  TOPO="CPUs=$NCPU Sockets=${BASH_REMATCH[2]} CoresPerSocket=${BASH_REMATCH[3]} ThreadsPerCore=${BASH_REMATCH[4]}"
fi
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd "$LOGDIR"
if [ ! -f "$CONF" ] || grep -qF "$MARK" "$CONF"; then
  cat > "$CONF.tmp" <<CONFEOF
$MARK: one-node cluster on $HOST
ClusterName=local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# durable per-job final state (one line per job/array task) without slurmdbd
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGDIR/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
EnforcePartLimits=ALL
MailProg=/bin/true
NodeName=$HOST NodeAddr=127.0.0.1 $TOPO RealMemory=$REALMEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONFEOF
  mv "$CONF.tmp" "$CONF"
else
  echo "slurm: keeping existing $CONF (not written by this script)"
fi

# 4. daemons (a stale pid file whose process is gone is removed; a live daemon is kept)
T0=$(date +%s)
if ! alive /run/slurmctld.pid slurmctld; then rm -f /run/slurmctld.pid; slurmctld; fi
if ! alive /run/slurmd.pid slurmd; then rm -f /run/slurmd.pid; slurmd; fi

resumed=0
deadline=$(( SECONDS + 60 ))
while [ $SECONDS -lt $deadline ]; do
  healthy && break
  st=$(timeout 10 sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n1 || true)
  case "$st" in
    drain*|drained|down) # left over from an earlier life (e.g. "Node unexpectedly rebooted")
      if [ $resumed -eq 0 ] && alive /run/slurmd.pid slurmd; then
        scontrol update NodeName="$HOST" State=RESUME || true; resumed=1
      fi ;;
  esac
  sleep 1
done
if ! healthy; then
  echo "slurm: node $HOST not idle after 60 s (state: $(timeout 10 sinfo -h -n "$HOST" -o '%T %E' 2>&1 || true))" >&2
  for f in "$LOGDIR/slurmctld.log" "$LOGDIR/slurmd.log"; do echo "--- $f" >&2; tail -n 30 "$f" >&2 || true; done
  exit 1
fi
echo "slurm: cluster up after $(( $(date +%s) - T0 )) s: $(sinfo -h -n "$HOST" -o '%P %T %c CPUs %m MiB')"
