#!/usr/bin/env bash
# Merges the shards written by shard.sh into one run's reports in $RUN_DIR/merged. tokenfleet
# checks that every shard is present exactly once and that they come from the same run.
set -euo pipefail
TOKENFLEET=${TOKENFLEET:-tokenfleet}
: "${RUN_DIR:?set RUN_DIR to the directory the shards wrote to}"
exec "$TOKENFLEET" merge "$RUN_DIR"/shard-* --out "$RUN_DIR/merged"
