# syntax=docker/dockerfile:1
# Nereid images. Default target: CPU. CUDA: docker build --target cuda -t nereid:cuda .
# Both run as a non-root user (uid 1000), serve HTTP on 8000, gRPC on 8001 and Prometheus metrics on 8002,
# and serve the repository mounted at /models (the example models when nothing is mounted).
# `tritonserver` is on the PATH and a leading `tritonserver` argument is skipped, so Triton's
# command lines run as written (README, "Triton command lines").

# Node.js 26, the active LTS line (Node 20 reached end of life in April 2026). package.json
# keeps engines at >=20: development and CI still run on Node 20.
ARG NODE_IMAGE=node:26-trixie-slim

# ---- build (CPU): compile TypeScript, keep production dependencies only ----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc sets onnxruntime-node-install=skip: the CPU image needs no CUDA libraries.
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/image ./scripts/image
# prune-node-modules.sh says what it leaves out and why (other platforms' ONNX Runtime, the
# ESM builds Node never loads, maps and type declarations).
RUN npm run build && npm prune --omit=dev && sh scripts/image/prune-node-modules.sh

# ---- cpu: the default image ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY proto ./proto
COPY scripts/image/tritonserver /usr/local/bin/tritonserver
COPY models /models
USER node
# 8000: HTTP/REST (KServe v2 / Triton); 8001: gRPC (KServe v2 / Triton); 8002: Prometheus metrics (GET /metrics).
EXPOSE 8000 8001 8002
# Liveness: the `live` health service answers SERVING while the process serves, models loading
# or not. With --grpc-use-ssl, run the probe with --tls (and --ca, --cert, --key) instead.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "dist/health-probe.js", "--service", "live"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--model-repository", "/models", "--grpc-port", "8001", "--metrics-port", "8002"]

# ---- build-cuda: onnxruntime-node fetches its CUDA 12 provider libraries at install -------
FROM ${NODE_IMAGE} AS build-cuda
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
# No .npmrc here: its skip setting would stop the CUDA download.
COPY package.json package-lock.json ./
RUN npm ci --foreground-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/image ./scripts/image
RUN npm run build && npm prune --omit=dev && sh scripts/image/prune-node-modules.sh \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

# ---- cuda: CUDA 12 runtime with cuDNN 9; instances with instance_group KIND_GPU -----------
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 AS cuda
ENV NODE_ENV=production
COPY --from=build-cuda /usr/local/bin/node /usr/local/bin/node
RUN useradd --create-home --uid 1000 nereid
WORKDIR /app
COPY --from=build-cuda /app/node_modules ./node_modules
COPY --from=build-cuda /app/dist ./dist
COPY package.json ./
COPY proto ./proto
COPY scripts/image/tritonserver /usr/local/bin/tritonserver
COPY models /models
USER nereid
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "dist/health-probe.js", "--service", "live"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--model-repository", "/models", "--grpc-port", "8001", "--metrics-port", "8002"]

# The last stage is what a plain `docker build .` produces: keep CPU the default.
FROM cpu
