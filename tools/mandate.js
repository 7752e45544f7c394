#!/usr/bin/env node
// `npx mandate …`: the mandate CLI from the compiled workspace (run `npm run build` first).
'use strict';
const path = require('node:path');
process.argv.splice(2, 0, 'apps/mandate/src/main.js');
require(path.join(__dirname, 'run.js'));
