/**
 * Entry of an encode worker thread. Worker threads start as plain Node.js, which cannot load TypeScript; so when
 * a compiled `encode-worker.js` sits next to this file (the `dist/` build) it is imported, otherwise tsx's ESM
 * loader is registered for this thread and the TS source is imported. Works under `tsx`, vitest and `node dist/`.
 */
import { existsSync } from 'node:fs';

const compiled = new URL('./encode-worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('./encode-worker.ts', import.meta.url).href);
}
