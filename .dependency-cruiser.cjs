/**
 * The dependency rule between src/ folders (STYLE.md, ARCHITECTURE.md), checked by `npm run lint:deps`:
 *   core ← config ← {encoders, engine} ← search ← {server, cluster, ingest ← cli} ← main (src/main.ts, src/lib.ts, src/cli/main.ts)
 *   engine, bottom up: index (kernels) ← {filter, seismic} ← segment ← storage; it never imports encoders, and
 *   encoders never import it.
 *   eval (BEIR, the bench runner, synthetic data) above everything; bench/ and test/ are outside src/ and free;
 *   no cycles; tests (*.test.ts, test/) and scripts/ may import anything.
 * Each folder lists what it may import (besides itself); anything else under src/ is a violation. There is no
 * list of known violations: the check passes with 0 and fails on any new one (test/dep-rule.test.ts).
 */
const TESTS = '(^test/|\\.test\\.ts$)';

/** Folder → the src/ folders it may import (its own folder is always allowed). */
const ENGINE = ['core', 'config', 'index', 'filter', 'seismic', 'segment', 'storage'];
const MAY_IMPORT = {
  core: [],
  config: ['core'],
  encoders: ['core', 'config'],
  index: ['core', 'config'],
  filter: ['core', 'config', 'index'],
  seismic: ['core', 'config', 'index'],
  segment: ['core', 'config', 'index', 'filter', 'seismic'],
  storage: ENGINE,
  search: [...ENGINE, 'encoders'],
  ingest: [...ENGINE, 'encoders', 'search'],
  server: [...ENGINE, 'encoders', 'search'],
  cli: [...ENGINE, 'encoders', 'search', 'ingest'],
  // Cluster mode (NATS JetStream): above the search service, beside server; only the composition root imports it.
  cluster: [...ENGINE, 'encoders', 'search'],
};

module.exports = {
  forbidden: [
    ...Object.entries(MAY_IMPORT).map(([from, allowed]) => ({
      name: `layer-${from}`,
      comment: `src/${from}/ may import only ${[from, ...allowed].join(', ')} (see the header of .dependency-cruiser.cjs)`,
      severity: 'error',
      // src/cli/main.ts is the CLI's composition root (it hands serve/eval/bench to runCli), like src/main.ts.
      from: { path: `^src/${from}/`, pathNot: from === 'cli' ? `${TESTS}|^src/cli/main\\.ts$` : TESTS },
      to: { path: '^src/', pathNot: `^src/(${[from, ...allowed].join('|')})/` },
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
      from: { path: '^src/(core|config|encoders|index|filter|seismic|segment|storage|search|server|cli|ingest|cluster)/.*\\.test\\.ts$' },
      to: { path: '^src/eval/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
