# The pitboss image. The engine, the ClickHouse sink and the API all run from it with different
# commands (docker-compose.yml); they run the TypeScript sources through tsx, so there is no
# build step and tsx is a runtime dependency.

# Stage 1: production dependencies. Build tools are here for native modules without a prebuilt
# binary for the target (@nxtedition/rocksdb ships linux-x64 only; arm64 compiles) and for the
# librdkafka output producer (@confluentinc/kafka-javascript), which CKJS_LINKING=dynamic
# compiles against Debian's libssl and zlib instead of downloading a binary.
FROM node:20-bookworm-slim AS dependencies
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's install script would download GPU
# libraries; the CPU library ships in the package. --omit=dev keeps tsx (a dependency).
# Native binaries for other operating systems (about 220 MB) are never loaded here: removed.
# librdkafka's sources and static archives (~280 MB) are left behind; its shared libraries stay.
RUN CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev \
 && node -e "require('@confluentinc/kafka-javascript')" \
 && npm cache clean --force \
 && rm -rf node_modules/@confluentinc/kafka-javascript/deps/librdkafka node_modules/@confluentinc/kafka-javascript/build/deps/*.a \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
           node_modules/@nxtedition/rocksdb/prebuilds/darwin-*

# Stage 2: runtime, without compilers. libssl3 for librdkafka.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
# Sources are owned by root and read-only for the runtime user; .dockerignore keeps
# node_modules, .pitboss, .git and .env out of the context.
COPY . .
# The engine's RocksDB state is a volume mounted at /var/lib/pitboss/state. The folder exists
# here, owned by the runtime user, so a new named volume starts with that owner.
RUN mkdir -p /var/lib/pitboss/state \
 && chown -R node:node /var/lib/pitboss
ENV PITBOSS_HOME=/var/lib/pitboss
USER node
# 8080: the API. 9464: /metrics of the engine and the sink.
EXPOSE 8080 9464
# The processes commit their checkpoint and leave their consumer group on SIGTERM.
STOPSIGNAL SIGTERM
# The node flags of every other start (infra/node-args.ts); docker-compose.yml gives each service its own.
CMD ["node", "--max-semi-space-size=64", "--initial-old-space-size=128", "--import", "tsx", "api/main.ts"]
