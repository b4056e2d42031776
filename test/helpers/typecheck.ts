/**
 * Type-checks files with the TypeScript API, with the compiler options `npm run typecheck` uses
 * for test/ (test/tsconfig.json), so that `npm test` fails on a type error as CI's typecheck does.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const TEST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The type errors of `files` (absolute paths), formatted as tsc prints them; empty when they compile.
 * `sources` stands in for files of those paths that need not exist on disk (e.g. a snippet taken from
 * a document, placed where its imports resolve as they would for a user).
 */
export function typeErrors(files: readonly string[], sources: Readonly<Record<string, string>> = {}): string[] {
  const configPath = resolve(TEST_DIR, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, TEST_DIR);
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (path) => sources[path] ?? readFile(path);
  host.fileExists = (path) => path in sources || fileExists(path);
  host.getSourceFile = (path, language, ...rest) => {
    const text = sources[path];
    return text === undefined ? getSourceFile(path, language, ...rest) : ts.createSourceFile(path, text, language);
  };
  const program = ts.createProgram({ rootNames: [...files], options: { ...options, noEmit: true }, host });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) =>
    ts.formatDiagnostic(diagnostic, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => TEST_DIR, getNewLine: () => '\n' }).trim(),
  );
}
