# grex-harness in a container: the mock registry on 0.0.0.0:4600.
#   docker build -t grex-harness .
#   docker run --rm -p 4600:4600 grex-harness                    # the mock, as `npm start`
#   docker run --rm grex-harness grex-harness codes               # any other command
#   docker run --rm -p 4600:4600 -v grex-state:/data grex-harness grex-harness mock --state /data/grex.db
# PORT and GREX_HOST set where it listens; other flags go after `grex-harness mock`.

# Build: the whole project with its development tools; `npm pack` builds dist/ (prepack) and packs it.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /pkg && mv /pkg/grex-harness-*.tgz /pkg/grex-harness.tgz \
 && node -p "require('./package.json').devDependencies['better-sqlite3']" > /pkg/better-sqlite3.version

# Run: Node 20 slim and the packed tool only (dist/ and its runtime dependencies), installed as integrators install it.
FROM node:20-bookworm-slim
COPY --from=build /pkg/grex-harness.tgz /pkg/better-sqlite3.version /tmp/
# --state needs better-sqlite3 (an optional peer, the version the project tests with): its install script fetches a prebuilt binary.
RUN npm install --global --omit=dev --no-audit --no-fund --allow-scripts=better-sqlite3 /tmp/grex-harness.tgz "better-sqlite3@$(cat /tmp/better-sqlite3.version)" \
 && rm /tmp/grex-harness.tgz /tmp/better-sqlite3.version && npm cache clean --force \
 && mkdir -p /data && chown node:node /data
USER node
ENV NODE_ENV=production PORT=4600 GREX_HOST=0.0.0.0
EXPOSE 4600
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4600) + '/__admin/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["grex-harness", "mock"]
