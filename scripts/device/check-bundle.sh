#!/usr/bin/env bash
# CI check of the GPU device bundle: builds it with bundle.sh (which fails over the 60 MiB
# limit) and checks that the archive holds what check.sh runs on the device.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/device/bundle.sh
ARCHIVE=.device-bundle/nereid-bundle.tar.xz
LISTING=$(tar -tJf "$ARCHIVE")
missing=0
for member in node app/dist/src/main.js app/dist/scripts/bench/run.js app/dist/scripts/bench/scaling.js app/dist/scripts/bench/cluster-serve.js app/dist/scripts/bench/thread-tag.cjs app/dist/scripts/device/compare-outputs.js app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node \
  models/ocr_cls/1/model.onnx models/ocr_cls/config.pbtxt models/ocr_rec/1/model.onnx models/ocr_rec/config.pbtxt; do
  if ! grep -qx "$member" <<<"$LISTING"; then
    echo "bundle lacks $member" >&2
    missing=1
  fi
done
if ! grep -q '^debs/libvulkan1_.*_amd64\.deb$' <<<"$LISTING"; then
  echo "bundle lacks the Vulkan loader (debs/libvulkan1_*_amd64.deb)" >&2
  missing=1
fi
exit $missing
