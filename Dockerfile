# spladex server image: Node 20 slim, compiled JS (dist/) and production dependencies only, non-root, data and
# encoders as volumes. Two stages: the first installs every dependency (native addons roaring and hnswlib-node
# build with node-gyp; onnxruntime-node's CUDA download is denied by package.json "allowScripts"), compiles
# src/ with tsc and prunes the devDependencies, so compilers, TypeScript and tsx stay out of the runtime image.
FROM node:20-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    SPLADEX_HOST=0.0.0.0 \
    SPLADEX_PORT=8080 \
    SPLADEX_DATA_DIR=/data \
    SPLADEX_ENCODERS_DIR=/encoders
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
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
CMD ["node", "dist/main.js"]
