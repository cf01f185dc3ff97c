#!/bin/sh
# Leaves out of the image's production node_modules what the server can never load, at the
# level of files Node's resolver cannot reach, so nothing it does load goes missing:
#   - ONNX Runtime's native builds for other platforms (darwin, win32, linux/arm64): the image
#     is linux/x64, and onnxruntime-node picks its binary by process.platform and arch;
#   - the ESM and esnext builds of every @opentelemetry package (sdk-node's whole tree
#     included): their package.json files point Node at build/src (main, or the "default"
#     export condition) and name build/esm and build/esnext only under the bundler
#     conditions "module" and "esnext", which Node never uses;
#   - source maps and TypeScript declarations, which Node does not read (no
#     --enable-source-maps), and @types packages, which hold nothing else;
#   - protobufjs's cli/ folder (pbjs/pbts and their jsdoc tooling), which only its command-line
#     tools load.
# scripts/check-docker-steps.ts starts the server from the result and exports spans over every
# OTLP protocol, so a file removed wrongly fails CI. Run from the folder holding node_modules.
set -eu
ORT=node_modules/onnxruntime-node/bin/napi-v6
test -d "$ORT/linux/x64"
find "$ORT" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ORT/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
find node_modules -type d -path '*/@opentelemetry/*/build/*' \( -name esm -o -name esnext \) -prune -exec rm -rf {} +
find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete
find node_modules -type d -path '*/protobufjs/cli' -prune -exec rm -rf {} +
find node_modules -type d \( -path 'node_modules/@types' -o -path '*/node_modules/@types' \) -prune -exec rm -rf {} +
