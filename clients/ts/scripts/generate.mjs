// Generates src/generated from the program's IDL (idl/verdict.json at the
// repository's root) with Codama: instruction builders, account decoders,
// PDAs, error names and types on @solana/kit. Do not edit the output; edit
// the program, regenerate the IDL (`cargo run -p verdict-idl`), then run
// `npm run generate`.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFromRoot } from 'codama';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';

const here = dirname(fileURLToPath(import.meta.url));
const idl = JSON.parse(readFileSync(join(here, '../../../idl/verdict.json'), 'utf8'));
const out = join(here, '../src/generated');
rmSync(out, { recursive: true, force: true });
const codama = createFromRoot(rootNodeFromAnchor(idl));
await codama.accept(renderVisitor(out));
console.log(`generated ${out}`);
