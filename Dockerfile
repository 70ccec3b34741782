# syntax=docker/dockerfile:1.7
# sim-arena operator / CLI image.
#   docker build -t sim-arena .
#   docker run --rm sim-arena --help
# The chart runs `node dist/cli/main.js operator ...` (Deployment) and `node dist/cli/main.js trace-sync ...`
# (DaemonSet) from this image; its init container also needs `sh`, `chmod` and `chown`, which the base image has.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript to dist/ ------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies + compiled output only ---------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no lifecycle script may need dev tools here. (The npm cache is a build-cache mount, so it never
# lands in the image.)
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY traces ./traces
COPY crds ./crds

LABEL org.opencontainers.image.title="sim-arena" \
      org.opencontainers.image.description="Kubernetes operator and CLI: policies fix workloads with wrong resource requests by editing SimKube traces" \
      org.opencontainers.image.licenses="Apache-2.0"

USER 65532:65532
ENTRYPOINT ["node", "dist/cli/main.js"]
