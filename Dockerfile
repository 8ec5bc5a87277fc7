# spladex server image: Node 20 slim, production dependencies only, non-root, data and encoders as volumes.
# Two stages: native addons (roaring, hnswlib-node) build with node-gyp in the first, so the compilers stay out of
# the runtime image. The server runs the TypeScript sources through tsx (a production dependency).
FROM node:20-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# .npmrc: onnxruntime-node-install=skip (its CPU binaries ship inside the package; no download at install).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    SPLADEX_HOST=0.0.0.0 \
    SPLADEX_PORT=8080 \
    SPLADEX_DATA_DIR=/data \
    SPLADEX_ENCODERS_DIR=/encoders
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# The committed encoder files (README, lexical manifest, small vocab/idf files) as a reference copy; the live
# encoders directory is the /encoders volume.
COPY encoders ./encoders-default

RUN mkdir -p /data /encoders && chown node:node /data /encoders
USER node
VOLUME ["/data", "/encoders"]
EXPOSE 8080
# Liveness: /health answers as soon as the server listens; /ready (collections loaded) is for load balancers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Exec form: node itself receives SIGTERM (src/main.ts drains requests and closes the logs; compose adds an init).
CMD ["node", "--import", "tsx", "src/main.ts"]
