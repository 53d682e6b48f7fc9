#!/usr/bin/env bash
# Makes sure the engine's librdkafka output producer (@confluentinc/kafka-javascript, an
# optional dependency: core/output-producer.ts) is installed and loads.
#
# Its install script downloads a prebuilt binary from GitHub or, failing that, compiles
# librdkafka after downloading librdkafka's own dependencies; where GitHub cannot be reached,
# npm drops the package and the engine would produce with kafkajs. With CKJS_LINKING=dynamic it
# compiles against Debian's libssl-dev and zlib1g-dev instead (infra/install-deps.sh installs
# them): about 80 s, once. Quiet when the binding already loads.
#
# Usage: bash infra/librdkafka-binding.sh [--or-kafkajs]
#   --or-kafkajs  a failed build warns and exits 0 (the engine then says at start that it
#                 produces with kafkajs); without it a failed build exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

loads() { node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; }
loads && exit 0

version=$(node -p "require('./package.json').optionalDependencies['@confluentinc/kafka-javascript']")
echo "building @confluentinc/kafka-javascript@${version} (librdkafka) against Debian's libssl and zlib: about 80 s, once" >&2
if CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-audit --no-fund "@confluentinc/kafka-javascript@${version}" >&2 && loads; then
  exit 0
fi
if [ "${1:-}" = "--or-kafkajs" ]; then
  echo "warning: the librdkafka binding could not be built; the engine produces its outputs with kafkajs (slower on the main thread)" >&2
  exit 0
fi
echo "error: the librdkafka binding (@confluentinc/kafka-javascript) could not be built; see the npm output above" >&2
exit 1
