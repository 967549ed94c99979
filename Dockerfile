# syntax=docker/dockerfile:1
# Multi-stage build: production dependencies only, compiled JavaScript, non-root user, CLI included.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY migrations ./migrations
COPY web ./web
# Compiles the service and builds the web app (Vite) into dist/web.
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# The heap cap keeps a process's memory to what it uses: without it V8 lets the heap grow lazily
# (an API staging a million-row file reached 240 MB resident; capped, 140 MB). See docs/operations.md.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=128 \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# In the image the CLI runs from compiled JavaScript: `npm run --silent cli -- ...` or `node dist/src/cli.js ...`.
RUN npm pkg set scripts.cli="node dist/src/cli.js" scripts.migrate="node dist/src/cli.js migrate" \
    scripts.start="node dist/src/server.js"
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
