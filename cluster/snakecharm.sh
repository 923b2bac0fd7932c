#!/usr/bin/env bash
# snakecharm.sh: run the DynVision workflow on SLURM, in the background, from the workflow's root directory.
#
#   ./cluster/snakecharm.sh -j100 all_experiments
#   ./cluster/snakecharm.sh -j100 experiment --config experiment=contrast
#   ./cluster/snakecharm.sh -j1 train_model --debug
#   ./cluster/snakecharm.sh --foreground -j2 all_experiments      (wait for the end; exit with Snakemake's code)
#
# 1. activates the software environment named in cluster/site.env (modules, then conda or a venv);
# 2. removes a stale Snakemake lock left by a killed run (never the lock of a run that is still going);
# 3. runs cluster/_snakecharm.sh (Snakemake with cluster/profiles/slurm) in the background with nohup, so
#    it survives logout, and writes everything it prints to logs/slurm/snakecharm_<target>.log.
# Every argument except --foreground goes to Snakemake unchanged. The log is named after the first
# target (the first argument that is no option, no option's file or folder, no KEY=VALUE and no number);
# SNAKECHARM_LOG_NAME overrides it.
set -euo pipefail

cluster_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pidfile=.snakemake/snakecharm.pid

foreground=0
args=()
for arg in "$@"; do
  if [ "$arg" = --foreground ]; then foreground=1; else args+=("$arg"); fi
done

# log_name ARGS...: the first target among Snakemake's arguments, made safe for a file name
log_name() {
  local arg skip=0
  for arg in "$@"; do
    if [ "$skip" -eq 1 ]; then
      skip=0
      continue
    fi
    case "$arg" in
      -s | --snakefile | -d | --directory | --configfile | --configfiles | --profile | --workflow-profile) skip=1 ;&
      -* | *=* | '') continue ;;
    esac
    [[ "$arg" =~ ^[0-9]+$ ]] && continue
    printf '%s' "${arg//[^A-Za-z0-9_.-]/_}"
    return
  done
  printf 'all'
}

# fail MESSAGE: one clear line on stderr, then stop
fail() {
  echo "snakecharm: $*" >&2
  exit 1
}

activate_environment() {
  set -a
  # shellcheck source=site.env
  . "${cluster_dir}/site.env"
  set +a
  if [ -n "$DYNVISION_MODULES" ]; then
    command -v module >/dev/null || fail "DYNVISION_MODULES is set but the 'module' command is not available"
    # shellcheck disable=SC2086  # a list of module names
    module load $DYNVISION_MODULES
  fi
  if [ -n "$DYNVISION_CONDA_ENV" ]; then
    command -v conda >/dev/null || fail "DYNVISION_CONDA_ENV is set but the 'conda' command is not available"
    eval "$(conda shell.bash hook)"
    conda activate "$DYNVISION_CONDA_ENV"
  elif [ -f "${DYNVISION_VENV}/bin/activate" ]; then
    # shellcheck disable=SC1091
    . "${DYNVISION_VENV}/bin/activate"
  fi
  command -v snakemake >/dev/null || fail "no snakemake on PATH after activating the environment (see cluster/site.env)"
}

# unlock_if_stale: remove the lock of an earlier run with `snakemake --unlock` once that run has ended
unlock_if_stale() {
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    fail "a run is still going in this directory (pid $(cat "$pidfile")); wait for it or stop it: kill $(cat "$pidfile")"
  fi
  if compgen -G ".snakemake/locks/*" >/dev/null; then
    echo "snakecharm: removing the stale lock of an earlier run"
    "${cluster_dir}/_snakecharm.sh" "${args[@]}" --unlock >/dev/null
  fi
}

# check_arguments ARGS...: the --config and --configfile mistakes Snakemake's parser answers with a traceback
check_arguments() {
  local arg option=''
  for arg in "$@"; do
    if [[ "$arg" == -* ]]; then
      option="${arg%%=*}"
      continue
    fi
    case "$option" in
      --config | -C)
        [[ "$arg" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
          fail "--config entry '$arg' is not name=value (e.g. epochs=5); targets go before --config, every word after it is a config entry"
        ;;
      --configfile | --configfiles) [ -f "$arg" ] || fail "--configfile $arg does not exist" ;;
    esac
  done
}

check_arguments "${args[@]}"
activate_environment
unlock_if_stale
log="logs/slurm/snakecharm_${SNAKECHARM_LOG_NAME:-$(log_name "${args[@]}")}.log"
mkdir -p logs/slurm .snakemake

if [ "$foreground" -eq 1 ]; then
  echo $$ >"$pidfile"
  set +e
  "${cluster_dir}/_snakecharm.sh" "${args[@]}" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  rm -f "$pidfile"
  exit "$status"
fi

nohup "${cluster_dir}/_snakecharm.sh" "${args[@]}" >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"
echo "snakecharm: Snakemake runs in the background (pid $!); its log is ${log}"
echo "  follow it:  tail -f ${log}"
echo "  your jobs:  squeue -u ${USER:-$(id -un)}"
echo "  stop it:    kill $!   (then check with squeue that no job of the run is left)"
