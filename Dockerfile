# relaykey in a container: build once, run the packed tarball as a non-root user.
#   docker build -t relaykey .
#   docker run -p 8080:8080 -v relaykey-data:/var/lib/relaykey \
#     -v /etc/relaykey/master_key:/run/secrets/master_key:ro relaykey
# (docs/operations.md). Not built on the project's own machines, which have no container engine.

# --- build: the full toolchain compiles the server, the console and the bundle, then packs.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY . .
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp
# Production dependencies only, from the tarball: what `relaykey start` needs and nothing more.
WORKDIR /opt/relaykey
RUN echo '{"name":"relaykey-runtime","private":true}' > package.json \
  && npm install --omit=dev --no-audit --no-fund /tmp/relaykey-*.tgz \
  && rm -rf node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/.deps \
  && npm cache clean --force

# --- run: Node and the installed package, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RELAYKEY_HOST=0.0.0.0 \
    RELAYKEY_PORT=8080 \
    RELAYKEY_DATA_DIR=/var/lib/relaykey \
    RELAYKEY_MASTER_KEY_FILE=/run/secrets/master_key
COPY --from=build /opt/relaykey /opt/relaykey
RUN groupadd --system relaykey && useradd --system --gid relaykey --home-dir /var/lib/relaykey --shell /usr/sbin/nologin relaykey \
  && install -d -m 0700 -o relaykey -g relaykey /var/lib/relaykey
USER relaykey
WORKDIR /var/lib/relaykey
VOLUME ["/var/lib/relaykey"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.RELAYKEY_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# exec form: node is PID 1's child-free main process, so SIGTERM reaches relaykey directly.
ENTRYPOINT ["node", "/opt/relaykey/node_modules/relaykey/bin/relaykey.js"]
CMD ["start"]
