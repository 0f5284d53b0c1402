# Vigil agent + console. Multi-stage: build with the full toolchain, run with only the
# production dependencies and the built files.
#
#   docker build -t vigil .
#   docker run -d --name vigil --pid=host --network=host \
#     -v /proc:/host/proc:ro -v /sys:/host/sys:ro -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     vigil --procfs /host/proc --sysfs /host/sys
#
# BASE lets a machine without registry access build from a locally made Node 20 image.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY agent ./agent
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
WORKDIR /opt/vigil
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER root
EXPOSE 44322
ENTRYPOINT ["node", "/opt/vigil/dist/agent/cli.js"]
CMD ["--procfs", "/host/proc", "--sysfs", "/host/sys"]
