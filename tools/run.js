#!/usr/bin/env node
// Runs a compiled entry point from dist/out-tsc with the @mandate/* path aliases
// resolved to their compiled output. Usage: node tools/run.js apps/<app>/src/main.js [args]
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const tsconfigPaths = require('tsconfig-paths');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'dist', 'out-tsc');
const base = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const paths = {};
for (const [alias, targets] of Object.entries(base.compilerOptions.paths)) {
  paths[alias] = targets.map((t) => t.replace(/\.ts$/, '.js'));
}
tsconfigPaths.register({ baseUrl: outDir, paths });

const entry = process.argv[2];
if (!entry) {
  console.error(
    'usage: node tools/run.js <entry relative to the repo, e.g. apps/policy/src/main.js> [args]',
  );
  process.exit(2);
}
const resolved = path.join(outDir, entry);
if (!fs.existsSync(resolved)) {
  console.error(`${resolved} does not exist: run "npm run build" first`);
  process.exit(2);
}
process.argv.splice(1, 2, resolved);
require(resolved);
