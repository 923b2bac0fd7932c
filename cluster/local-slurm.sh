#!/usr/bin/env bash
# local-slurm.sh: a real one-node SLURM cluster on this machine, for tests and CI.
#
#   cluster/local-slurm.sh start    install (apt, only what is missing), configure and start the daemons
#   cluster/local-slurm.sh stop     end the daemons again, by the PIDs in their PID files, and leave a stub
#                                   slurm.conf so that SLURM commands fail at once instead of waiting for them
#   cluster/local-slurm.sh status   show which daemons run and what sinfo says; exit 1 if any is down
#
# Debian 12 as root, with or without systemd: the daemons are started by hand in this order, each
# one polled until it answers before the next starts:
#   munged -> mariadbd -> slurmdbd (sacctmgr answers) -> slurmctld -> slurmd (node idle).
# slurmdbd + MariaDB make `sacct` work, which the Snakemake SLURM executor uses to poll job states.
# Partitions: cpu (default) and gpu, both on the one node. The node announces two GPUs (generic resource
# gpu:2) backed by empty placeholder files, so jobs that ask for `--gpus`/`--gres=gpu:N` are scheduled as on
# a real GPU site, yet run on the CPU. Memory is not enforced (no cgroups). Running `start` again changes
# nothing that already runs.
#
# Environment: LOCAL_SLURM_SKIP_APT=1 skips apt-get even if a program is missing.
set -Eeuo pipefail

CLUSTER=dynvision
NODE="$(hostname -s)"
GPU_FILES=(/run/local-slurm/gpu0 /run/local-slurm/gpu1)   # one placeholder file per announced GPU
DB_PASS=slurm-local-db   # database reachable over the loopback only; not a secret
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
# Ordered as started; `stop` walks this list backwards.
DAEMONS=(munged:/run/munge/munged.pid mariadbd:/run/mysqld/mysqld.pid slurmdbd:/run/slurmdbd.pid
  slurmctld:/run/slurmctld.pid slurmd:/run/slurmd.pid)

say() { printf '[local-slurm %3ss] %s\n' "$SECONDS" "$*"; }
die() { say "error: $*" >&2; exit 1; }

# running PIDFILE: the PID file names a live process
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# poll SECONDS WHAT CMD...: run CMD every half second until it succeeds
poll() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "gave up after ${limit}s waiting for ${what}"
    sleep 0.5
  done
}

# end NAME PIDFILE: SIGTERM, wait up to 20 s, then SIGKILL; remove the PID file (a stale one confuses apt's prerm)
end() {
  local name=$1 pidfile=$2 pid
  if running "$pidfile"; then
    pid=$(cat "$pidfile")
    say "stopping ${name} (pid ${pid})"
    kill "$pid"
    for _ in $(seq 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "${name} (pid ${pid}) ignored SIGTERM for 20 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

install_packages() {
  local missing=()
  command -v munged >/dev/null || missing+=(munge)
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v slurmdbd >/dev/null || missing+=(slurmdbd)
  command -v mariadbd >/dev/null || missing+=(mariadb-server)
  [ "${#missing[@]}" -gt 0 ] || return 0
  [ "${LOCAL_SLURM_SKIP_APT:-0}" != 1 ] || die "missing ${missing[*]} and LOCAL_SLURM_SKIP_APT=1"
  say "apt-get install ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

# write_if_changed FILE: replace FILE by stdin only when the text differs; true if it changed
write_if_changed() {
  local file=$1
  cat >"${file}.new"
  if cmp -s "${file}.new" "$file"; then
    rm "${file}.new"
    return 1
  fi
  mv "${file}.new" "$file"
}

start_munge() {
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  running /run/munge/munged.pid || { say "starting munged"; runuser -u munge -- munged; }
  poll 10 munged sh -c 'munge -n | unmunge'
}

start_database() {
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
  if ! running /run/mysqld/mysqld.pid; then
    say "starting mariadbd"
    setsid mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
      --socket=/run/mysqld/mysqld.sock </dev/null >>/var/log/mariadb-local-slurm.log 2>&1 &
  fi
  poll 30 mariadbd mariadb-admin ping
  mariadb <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL
  write_if_changed /etc/slurm/slurmdbd.conf <<EOF || true
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=${DB_PASS}
EOF
  chown slurm:slurm /etc/slurm/slurmdbd.conf
  chmod 0600 /etc/slurm/slurmdbd.conf
  running /run/slurmdbd.pid || { say "starting slurmdbd"; slurmdbd; }
  # slurmctld started before slurmdbd answers dies on a first start ("we have no TRES from it").
  poll 30 slurmdbd sacctmgr -n list cluster
}

write_slurm_conf() {
  # RealMemory below what slurmd sees (or the node drains), and stable from run to run.
  local mem_mb=$(($(free -m | awk '/^Mem:/{print $2}') - 3072)) changed=0
  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
  # gres/gpu needs one file per GPU (a bare count registers as zero GPUs and drains the node); nothing opens them.
  install -d /run/local-slurm
  touch "${GPU_FILES[@]}"
  printf "NodeName=${NODE} Name=gpu File=%s\n" "${GPU_FILES[@]}" | write_if_changed /etc/slurm/gres.conf && changed=1
  write_if_changed /etc/slurm/slurm.conf <<EOF && changed=1
ClusterName=${CLUSTER}
SlurmctldHost=${NODE}(127.0.0.1)
AuthType=auth/munge
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=${mem_mb} Gres=gpu:${#GPU_FILES[@]} State=UNKNOWN
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL Default=NO MaxTime=INFINITE State=UP
EOF
  if [ "$changed" -eq 1 ] && running /run/slurmctld.pid; then
    say "configuration changed: restarting slurmd and slurmctld"
    end slurmd /run/slurmd.pid
    end slurmctld /run/slurmctld.pid
  fi
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root (it installs packages and starts system daemons)"
  trap '[ $? -eq 0 ] || { say "start failed; last lines of the daemon logs:"; tail -n 15 /var/log/slurm/*.log 2>/dev/null; }' EXIT
  install_packages
  start_munge
  write_slurm_conf
  start_database
  running /run/slurmctld.pid || { say "starting slurmctld"; slurmctld; }
  running /run/slurmd.pid || { say "starting slurmd"; slurmd; }
  poll 30 "node ${NODE} to be idle" sh -c "sinfo -h -n ${NODE} -o %T | grep -Eqx 'idle|mixed|allocated'"
  say "up: cluster ${CLUSTER}, node ${NODE}, $(nproc) CPUs, gres gpu:${#GPU_FILES[@]}, partitions cpu (default), gpu"
}

stop() {
  local i
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    end "${DAEMONS[i]%%:*}" "${DAEMONS[i]#*:}"
  done
  # With the controller down every SLURM command would retry for about 10 s before failing, and the Snakemake
  # SLURM plugin runs `scontrol show config` whenever it is imported, i.e. on every snakemake call, local ones
  # included. A configuration without a ClusterName makes them fail at once; `start` writes the real one again.
  if grep -qx "ClusterName=${CLUSTER}" /etc/slurm/slurm.conf 2>/dev/null; then
    say "replacing /etc/slurm/slurm.conf by a stub until the next start"
    printf '# The local SLURM cluster is stopped; cluster/local-slurm.sh start writes the real configuration.\n' \
      >/etc/slurm/slurm.conf
  fi
}

status() {
  local entry down=0
  for entry in "${DAEMONS[@]}"; do
    if running "${entry#*:}"; then
      printf '%-10s running (pid %s)\n' "${entry%%:*}" "$(cat "${entry#*:}")"
    else
      printf '%-10s stopped\n' "${entry%%:*}"
      down=1
    fi
  done
  [ "$down" -eq 1 ] || sinfo
  return "$down"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "unknown command '${1:-}'; valid: start, stop, status" ;;
esac
