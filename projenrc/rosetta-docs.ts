// Compiles the TypeScript examples of docs/*.md as `jsii-rosetta extract
// --strict` compiles the README's: each example with rosetta/default.ts-fixture
// (or the fixture it names), against this package's compiled assembly and its
// dependencies, and fails on any diagnostic. jsii-rosetta's command line reads
// examples only from an assembly (its README and doc comments), and docs/ is in
// no assembly; so each document stands in for the README of a copy of this
// package's assembly, held in memory, and goes through the same extraction,
// fixtures and compilation. Run after `jsii` (post-compile).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { RosettaTranslator, TypeScriptSnippet } from 'jsii-rosetta';

const root = join(__dirname, '..');
const docsDir = join(root, 'docs');

// The functions behind `jsii-rosetta extract`, which the package does not export by name.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const assemblies = require(join(dirname(require.resolve('jsii-rosetta')), 'jsii', 'assemblies'));

async function main() {
  const [loaded] = assemblies.loadAssemblies([root], false);
  const files = readdirSync(docsDir).filter((name) => name.endsWith('.md')).sort();
  const snippets: TypeScriptSnippet[] = [];
  for (const file of files) {
    const path = relative(root, join(docsDir, file));
    const asDocument = {
      ...loaded,
      // Only this document's examples: no types, no submodules, strict as the README.
      assembly: { ...loaded.assembly, readme: { markdown: readFileSync(join(docsDir, file), 'utf8') }, types: {}, submodules: {} },
      packageJson: { ...loaded.packageJson, jsiiRosetta: { ...loaded.packageJson?.jsiiRosetta, strict: true } },
    };
    const found: TypeScriptSnippet[] = await assemblies.allTypeScriptSnippets([asDocument], false);
    // Name the document, not the package, in each diagnostic.
    snippets.push(...found.map((snippet) => ({ ...snippet, location: { ...snippet.location, api: { api: 'moduleReadme' as const, moduleFqn: path } } })));
    console.log(`${path}: ${found.length} TypeScript example${found.length === 1 ? '' : 's'}`);
  }
  if (snippets.length === 0) return;

  const translator = new RosettaTranslator({ includeCompilerDiagnostics: true, assemblies: [loaded.assembly] });
  const { diagnostics } = await translator.translateAll(snippets, { addToTablet: false });
  for (const diagnostic of diagnostics) console.error(diagnostic.formattedMessage);
  if (diagnostics.length > 0) {
    console.error(`${diagnostics.length} diagnostics in the ${snippets.length} TypeScript examples of docs/`);
    process.exitCode = 1;
  } else {
    console.log(`docs/: all ${snippets.length} TypeScript examples compile strictly`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
