#!/usr/bin/env bash
# Runs one shard of a tokenfleet run on a batch engine. The shard index comes from the engine:
#   Slurm job arrays:        SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT (array must start at 0)
#   Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, with SHARDS = the Job's completions
# Every shard writes $RUN_DIR/shard-<index>/partial.json; merge.sh combines them.
#
# Environment: RUN_DIR (shared directory, required), SCENARIO (scenario file; default: the
# built-in scenario), TOKENFLEET (binary; default: tokenfleet on PATH), TOKENFLEET_ARGS (extra
# run arguments, e.g. "--full --threads 8").
set -euo pipefail
TOKENFLEET=${TOKENFLEET:-tokenfleet}
INDEX=${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}
COUNT=${SLURM_ARRAY_TASK_COUNT:-${SHARDS:-}}
: "${INDEX:?no shard index: set SLURM_ARRAY_TASK_ID (Slurm) or JOB_COMPLETION_INDEX (Kubernetes)}"
: "${COUNT:?no shard count: set SLURM_ARRAY_TASK_COUNT (Slurm) or SHARDS (Kubernetes)}"
: "${RUN_DIR:?set RUN_DIR to a directory that every shard and the merge step share}"
mkdir -p "$RUN_DIR"
# shellcheck disable=SC2086 # TOKENFLEET_ARGS is a list of arguments on purpose
exec "$TOKENFLEET" run ${SCENARIO:+"$SCENARIO"} --shard "$INDEX/$COUNT" --out "$RUN_DIR/shard-$INDEX" ${TOKENFLEET_ARGS:-}
