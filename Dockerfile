# spladex server image: Node 20 slim, production dependencies only, non-root, data and encoders as volumes.
FROM node:20-slim

ENV NODE_ENV=production \
    SPLADEX_HOST=0.0.0.0 \
    SPLADEX_PORT=8080 \
    SPLADEX_DATA_DIR=/data \
    SPLADEX_ENCODERS_DIR=/encoders

WORKDIR /app
# roaring builds with node-gyp when no prebuilt binary matches; onnxruntime-node ships its CPU binaries.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
COPY src ./src
COPY encoders ./encoders-default
COPY tsconfig.json ./

RUN mkdir -p /data /encoders && chown -R node:node /data /encoders
USER node
VOLUME ["/data", "/encoders"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
