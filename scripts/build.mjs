#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/ (JS + declaration files, tsconfig.build.json: no tests, no test
 * harnesses) and copies what tsc does not emit: the web page (src/server/web/, plain browser files) and the
 * `spladex` bin (src/cli/spladex.js). Plain JS so it runs before anything is compiled. Incremental: an unchanged
 * tree rebuilds in about a second (dist/.tsbuildinfo); `--clean` removes dist/ first (npm pack does that, so no
 * stale file of a deleted source ships).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
if (process.argv.includes('--clean')) rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
} catch {
  process.exit(1);
}
rmSync('dist/server/web', { recursive: true, force: true });
cpSync('src/server/web', 'dist/server/web', { recursive: true });
copyFileSync('src/cli/spladex.js', 'dist/cli/spladex.js');
chmodSync('dist/cli/spladex.js', 0o755);
