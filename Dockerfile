# Vigil agent + console. Multi-stage: build with the full toolchain, run with only the
# production dependencies and the built files.
#
#   docker build -t vigil .
#   docker run -d --name vigil --pid=host --network=host \
#     -v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     vigil --procfs /host/proc --sysfs /host/sys
#
# --pid=host: the host's /proc lists every process (per-process and per-container metrics, the
# containers' network namespaces). --network=host: the host's network devices, and the console
# on the host's loopback (add --host 0.0.0.0 to serve other machines). The host's /proc and
# cgroups are mounted read-only; the agent never writes to them. It runs as root because reading
# other users' /proc/<pid>/{io,ns,fd} needs it (CAP_SYS_PTRACE), and perf profiling needs
# CAP_PERFMON (or CAP_SYS_ADMIN): add `--cap-add SYS_ADMIN` or `--privileged` to profile.
#
# BASE lets a machine without registry access build from a locally made Node 20 image
# (`docker build --build-arg BASE=my-node20 .`); it needs node, npm and /bin/sh.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
WORKDIR /src
# Dependencies first: this layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY agent ./agent
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /opt/vigil
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER root
EXPOSE 44322
# --max-semi-space-size: the young generation's size, which only a start flag can set
# (agent/v8-settings.ts START_FLAGS); the CLI sets the rest of the garbage collector itself, and
# other node flags put here would override that (docs/DEVELOPING.md, "Memory").
ENTRYPOINT ["node", "--max-semi-space-size=4", "/opt/vigil/dist/agent/cli.js"]
CMD ["--procfs", "/host/proc", "--sysfs", "/host/sys"]
