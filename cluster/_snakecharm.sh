#!/usr/bin/env bash
# _snakecharm.sh: the core SLURM invocation, in the foreground. Every argument goes to Snakemake unchanged:
#   cluster/_snakecharm.sh -j100 all_experiments --config seed=1 --rerun-incomplete --debug
# It exports the site settings (cluster/site.env, unless already set in the environment) that the profile
# reads, then runs Snakemake with the SLURM profile from the current directory (the workflow's root).
# Use cluster/snakecharm.sh for long runs: it activates the environment and keeps running after logout.
set -euo pipefail

cluster_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
set -a
# shellcheck source=site.env
. "${cluster_dir}/site.env"
set +a
exec snakemake --profile "${cluster_dir}/profiles/slurm" "$@"
