/**
 * The dependency rule between src/ folders (STYLE.md, ARCHITECTURE.md), checked by `npm run lint:deps`:
 *   core ← config ← {encoders, index} ← search ← {server, cli, ingest} ← main (src/main.ts, src/lib.ts)
 *   eval (benchmarks, BEIR, harnesses) above everything; encoders and index never import each other;
 *   no cycles; tests (*.test.ts, test/) and scripts/ may import anything.
 * Violations that exist today are listed in .dependency-cruiser-known-violations.json (`--ignore-known`), so the
 * check passes now and fails on any new one; regenerate that file only when removing entries
 * (`npx depcruise-baseline src --config .dependency-cruiser.cjs > .dependency-cruiser-known-violations.json`).
 */
const TESTS = '(^test/|\\.test\\.ts$)';

/** Folder → the folders it must not import (everything above it, and its sibling where the rule says so). */
const ABOVE = {
  core: ['config', 'encoders', 'index', 'search', 'server', 'cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  config: ['encoders', 'index', 'search', 'server', 'cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  encoders: ['index', 'search', 'server', 'cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  index: ['encoders', 'search', 'server', 'cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  search: ['server', 'cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  server: ['cli', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  cli: ['server', 'ingest', 'eval', 'main\\.ts', 'lib\\.ts'],
  ingest: ['server', 'cli', 'eval', 'main\\.ts', 'lib\\.ts'],
};

module.exports = {
  forbidden: [
    ...Object.entries(ABOVE).map(([from, to]) => ({
      name: `layer-${from}`,
      comment: `src/${from}/ must not import ${to.join(', ')} (core ← config ← {encoders, index} ← search ← {server, cli, ingest} ← main; eval on top)`,
      severity: 'error',
      from: { path: `^src/${from}/`, pathNot: TESTS },
      to: { path: `^src/(${to.join('|')})(/|$)` },
    })),
    {
      name: 'no-circular',
      comment: 'no import cycles outside tests',
      severity: 'error',
      from: { pathNot: TESTS },
      to: { circular: true, viaOnly: { pathNot: TESTS } },
    },
    {
      name: 'src-not-to-tests',
      comment: 'runtime code never imports tests, test support or scripts',
      severity: 'error',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: `(${TESTS}|^scripts/)` },
    },
    {
      name: 'tests-not-in-eval',
      comment: 'unit tests of the engine do not depend on the evaluation code (move shared helpers to test support)',
      severity: 'error',
      from: { path: '^src/(core|config|encoders|index|search|server|cli|ingest)/.*\\.test\\.ts$' },
      to: { path: '^src/eval/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
