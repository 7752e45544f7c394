// Loads the plugin's TypeScript sources for `nx g`.
//
// Nx runs a local plugin's .ts generator through @swc-node/register or ts-node, or through Node's
// own type stripping (Node >= 22.18). This workspace runs Node 20 and has neither package, so Nx
// alone stops with "Unable to locate swc-node or ts-node". generators.json therefore points at a
// small .js entry that loads the .ts source through this hook: TypeScript's own transpileModule
// (the compiler the workspace already has), for files of this plugin only, registered just for
// the duration of the load. When a .ts loader is already registered (swc-node, ts-node, Jest),
// it is used as is.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const PLUGIN_SRC = __dirname + path.sep;

/** require() of one of the plugin's .ts files. */
function loadTs(file) {
  if (require.extensions['.ts']) return require(file);
  const ts = require('typescript');
  require.extensions['.ts'] = (module, filename) => {
    if (!filename.startsWith(PLUGIN_SRC))
      throw new Error(`@mandate/nx-plugin loads only its own sources, not ${filename}`);
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
      },
    });
    module._compile(outputText, filename);
  };
  try {
    return require(file);
  } finally {
    delete require.extensions['.ts'];
  }
}

module.exports = { loadTs };
