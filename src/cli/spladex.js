#!/usr/bin/env node
// Entry of the `spladex` command. scripts/build.mjs copies this file to dist/cli/ beside the compiled main.js
// (package.json "bin" points there: plain node, no tsx); from sources it runs under tsx, which maps main.js to
// main.ts.
import './main.js';
