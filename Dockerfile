# Timmy Time Mission Control: the whole product (API + dashboard) as one image.
#   docker build -t timmy-mission-control .   (or: docker compose up --build)
# Storage: SQLite in /data by default; set DATABASE_URL (and REDIS_URL) to use PostgreSQL (see docker-compose.yml).

FROM node:20-bookworm-slim AS build
# better-sqlite3 builds from source when no prebuilt binary can be fetched
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@10.34.9
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile
# contracts -> agent-sdk -> api -> web
RUN pnpm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SQLITE_PATH=/data/mission-control.db
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "apps/api/dist/main.js"]
