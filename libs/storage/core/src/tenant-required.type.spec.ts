import * as path from 'node:path';
import * as ts from 'typescript';

// ts-jest runs transpile-only, so this spec runs the compiler itself on the fixture.
const root = path.resolve(__dirname, '../../../..');
const fixture = path.join(__dirname, 'testing', 'type-fixtures', 'tenant-required.type-fixture.ts');
const MARKER = /^\s*\/\/ @ts-expect-error\b.*$/;

function compile(source: string): readonly ts.Diagnostic[] {
  const base = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(
    { ...base.config.compilerOptions, noEmit: true, types: ['node'] },
    root,
  );
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    path.resolve(fileName) === fixture
      ? ts.createSourceFile(fileName, source, languageVersion, true)
      : getSourceFile(fileName, languageVersion, ...rest);
  return ts.getPreEmitDiagnostics(ts.createProgram({ rootNames: [fixture], options, host }));
}

function lineOf(diagnostic: ts.Diagnostic): number {
  return diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start!).line;
}

describe('the storage port requires a tenant at compile time', () => {
  const original = ts.sys.readFile(fixture)!;
  const lines = original.split('\n');
  const marked = lines.flatMap((line, i) => (MARKER.test(line) ? [i + 1] : []));

  it('compiles cleanly with every @ts-expect-error consumed', () => {
    const messages = compile(original).map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
    expect(messages).toEqual([]);
    expect(marked.length).toBeGreaterThanOrEqual(10);
  });

  it('fails exactly on the marked lines once the markers are removed', () => {
    const stripped = lines.map((line) => (MARKER.test(line) ? '' : line)).join('\n');
    const diagnostics = compile(stripped);
    expect(diagnostics.every((d) => d.file && path.resolve(d.file.fileName) === fixture)).toBe(
      true,
    );
    expect([...new Set(diagnostics.map(lineOf))].sort((a, b) => a - b)).toEqual(marked);
  });
});
