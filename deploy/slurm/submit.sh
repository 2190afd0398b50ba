#!/usr/bin/env bash
# Submits a sharded tokenfleet run as a Slurm job array plus a merge job that runs when every
# shard succeeded:
#   SHARDS=16 RUN_DIR=/shared/runs/fleet-1 SCENARIO=scenarios/openclaw-2026.toml deploy/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${RUN_DIR:?set RUN_DIR to a directory on a shared file system}"
SHARDS=${SHARDS:-16}
export RUN_DIR SCENARIO DEPLOY_DIR="$here/.."
array=$(sbatch --parsable --export=ALL --array="0-$((SHARDS - 1))" "$here/shard.sbatch")
sbatch --export=ALL --dependency="afterok:${array}" "$here/merge.sbatch"
echo "submitted shards as job $array; the merge runs after all of them succeed"
