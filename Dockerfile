# syntax=docker/dockerfile:1
# Nereid images. Default target: CPU. CUDA: docker build --target cuda -t nereid:cuda .
# Both run as a non-root user and serve gRPC on 8001; mount your repository at /models.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build (CPU): compile TypeScript, keep production dependencies only ----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc sets onnxruntime-node-install=skip: the CPU image needs no CUDA libraries.
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- cpu: the default image ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY proto ./proto
COPY models /models
USER node
EXPOSE 8001
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--model-repository", "/models", "--grpc-port", "8001"]

# ---- build-cuda: onnxruntime-node fetches its CUDA 12 provider libraries at install -------
FROM ${NODE_IMAGE} AS build-cuda
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=cuda12
# No .npmrc here: its skip setting would stop the CUDA download.
COPY package.json package-lock.json ./
RUN npm ci --foreground-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev \
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
COPY models /models
USER nereid
EXPOSE 8001
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--model-repository", "/models", "--grpc-port", "8001"]

# The last stage is what a plain `docker build .` produces: keep CPU the default.
FROM cpu
