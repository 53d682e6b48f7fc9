#!/usr/bin/env bash
# Installs the Debian packages the local substrate needs, when they are missing.
# Quiet and fast when everything is there; as root it installs, otherwise it prints the command.
set -euo pipefail

missing=()
[ -f /usr/include/librdkafka/rdkafka_mock.h ] || missing+=(librdkafka-dev)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# The librdkafka output producer (@confluentinc/kafka-javascript) compiles at install time.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
{ [ -x /usr/bin/clickhouse-server ] || [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null 2>&1; } || missing+=(clickhouse-server clickhouse-client)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
if [ "${PITBOSS_INSTALL_DEV_TOOLS:-0}" = "1" ]; then
  # Only the test suite's compose checks use these.
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  # The AML console's browser test (playwright-core drives Debian's chromium; no browser download).
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "pitboss needs Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# clickhouse-server's maintainer script may try to start a systemd service; nothing here needs it.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
