#!/bin/sh
# Seeds the shared governance volume on first start, then runs the command it was given.
# The engines follow /var/lib/pitboss/governance (PITBOSS_RULE_SET, PITBOSS_MODELS_DIR,
# PITBOSS_MODELS_DEPLOYMENT_FILE); the api changes them (rule-set activation, model deployment).
# Existing files are never overwritten: what the operators changed survives image upgrades.
set -eu
root=/var/lib/pitboss/governance
mkdir -p "$root/rule-sets" "$root/models"
[ -e "$root/rule-sets/active.json" ] || cp detectors/rule-sets/default.json "$root/rule-sets/active.json"
for model in models/shipped/*/; do
  name=$(basename "$model")
  [ -e "$root/models/$name" ] || cp -R "$model" "$root/models/$name"
done
exec "$@"
