#!/bin/sh
# Entry point of the engine container: gives each replica of a scaled compose service
# (`docker compose up -d --scale engine=N`) a stable PITBOSS_INSTANCE_ID and state folder, then
# runs the command.
#
#   claim-instance-id.sh ROLE STATE_ROOT COMMAND...
#   e.g. claim-instance-id.sh engine /var/lib/pitboss/state node --import tsx pipelines/main.ts
#
# Why not the container hostname: it changes whenever compose re-creates the container (every
# image upgrade), and a new instance id means an empty state folder, so the engine would rebuild
# all of its partitions by replaying the input topics from the beginning. Instead each replica
# claims the lowest free slot ROLE-1, ROLE-2, ... by holding an exclusive flock on
# STATE_ROOT/.slots/ROLE-K.lock (STATE_ROOT is the volume the replicas share). The lock is held
# by the open descriptor 9, which the command inherits through exec, so it lasts as long as the
# process and the kernel releases it when the process dies. Two live replicas can never hold
# the same id, and a re-created replica takes back the slot (and the RocksDB state) just freed.
# Stable ids also keep the partition assignment stable: the engine's assigner orders members by
# client id, which contains the instance id.
#
# PITBOSS_INSTANCE_ID set in the environment wins (no slot is claimed).
set -eu

if [ "$#" -lt 3 ]; then
  echo "usage: claim-instance-id.sh ROLE STATE_ROOT COMMAND..." >&2
  exit 64
fi
role="$1"
state_root="$2"
shift 2
max_slots=256

if [ -z "${PITBOSS_INSTANCE_ID:-}" ]; then
  mkdir -p "$state_root/.slots"
  slot=1
  while :; do
    exec 9>"$state_root/.slots/$role-$slot.lock"
    if flock -n 9; then
      break
    fi
    exec 9>&-
    slot=$((slot + 1))
    if [ "$slot" -gt "$max_slots" ]; then
      echo "claim-instance-id: all $max_slots $role slots in $state_root/.slots are held; is something else locking them?" >&2
      exit 1
    fi
  done
  PITBOSS_INSTANCE_ID="$role-$slot"
fi
PITBOSS_STATE_DIR="$state_root/$PITBOSS_INSTANCE_ID"
export PITBOSS_INSTANCE_ID PITBOSS_STATE_DIR
exec "$@"
