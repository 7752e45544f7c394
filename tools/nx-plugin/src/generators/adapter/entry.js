// The `adapter` generator as generators.json names it: generator.ts, loaded by ../../load-ts.js
// (this workspace has no swc-node/ts-node for Nx to load .ts plugins with).
'use strict';
const { loadTs } = require('../../load-ts');

module.exports = loadTs(require.resolve('./generator.ts'));
