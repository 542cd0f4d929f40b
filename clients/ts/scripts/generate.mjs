// Generates src/generated from the program's IDL (idl/verdict.json at the
// repository's root) with Codama: instruction builders, account decoders,
// PDAs, error names and types on @solana/kit, plus what renderers-js leaves
// out: a codec per event (a defined type whose data carries the event's
// 8-byte discriminator as a hidden prefix), events.ts (the VerdictEvent
// union, decodeVerdictEvent, parseVerdictEvents) and programErrors.ts (code
// to IDL error name and message, available in production bundles too). Do
// not edit the output; edit the program, regenerate the IDL
// (`cargo run -p verdict-idl`), then run `npm run generate`.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  accountValueNode,
  createFromRoot,
  definedTypeNode,
  pascalCase,
  pdaSeedValueNode,
  pdaValueNode,
  programNode,
  rootNode,
  setInstructionAccountDefaultValuesVisitor,
} from 'codama';
import { rootNodeFromAnchor } from '@codama/nodes-from-anchor';
import { renderVisitor } from '@codama/renderers-js';

const here = dirname(fileURLToPath(import.meta.url));
const idl = JSON.parse(readFileSync(join(here, '../../../idl/verdict.json'), 'utf8'));
const out = join(here, '../src/generated');
rmSync(out, { recursive: true, force: true });

const root = rootNodeFromAnchor(idl);
const program = root.program;

// Each event becomes a defined type named after it; its data is the event
// node's, a hiddenPrefixTypeNode, so the generated encoder writes the
// discriminator and the decoder checks it.
const taken = new Set([
  ...program.accounts.map((a) => pascalCase(a.name)),
  ...program.definedTypes.map((t) => pascalCase(t.name)),
  ...program.instructions.map((i) => pascalCase(i.name)),
]);
const events = program.events.map((event) => {
  const name = pascalCase(event.name);
  if (taken.has(name)) {
    throw new Error(`event ${name} has the name of an account, type or instruction of the IDL`);
  }
  taken.add(name);
  const fromIdl = idl.events.find((e) => pascalCase(e.name) === name);
  if (!fromIdl || fromIdl.discriminator.length !== 8) {
    throw new Error(`event ${name}: no 8-byte discriminator in the IDL`);
  }
  return { name, discriminator: fromIdl.discriminator, node: event };
});
const withEvents = rootNode(
  programNode({
    ...program,
    definedTypes: [
      ...program.definedTypes,
      ...events.map(({ node }) =>
        definedTypeNode({ name: node.name, type: node.data, docs: node.docs ?? [] }),
      ),
    ],
  }),
  root.additionalPrograms,
);

const codama = createFromRoot(withEvents);
// Accounts the program binds by the keys they record instead of by their
// seeds (a Vote by its dispute and voter, a Delegation by its node and
// staker, an endpoint by its node) have no seeds in the IDL there, yet they
// live at their PDAs all the same: the async builders derive them, as they
// do where the IDL has the seeds.
const atPda = (pda, seeds) =>
  pdaValueNode(
    pda,
    Object.entries(seeds).map(([seed, account]) => pdaSeedValueNode(seed, accountValueNode(account))),
  );
const voteOf = (voter) => atPda('vote', { dispute: 'dispute', voter });
codama.update(
  setInstructionAccountDefaultValuesVisitor([
    { instruction: 'revealVote', account: 'vote', defaultValue: voteOf('voter') },
    { instruction: 'claimDisputeReward', account: 'vote', defaultValue: voteOf('voter') },
    { instruction: 'closeVote', account: 'vote', defaultValue: voteOf('voter') },
    { instruction: 'liquidate', account: 'vote', defaultValue: voteOf('node') },
    {
      instruction: 'requestUndelegate',
      account: 'delegation',
      defaultValue: atPda('delegation', { node: 'node', staker: 'staker' }),
    },
    { instruction: 'closeNodeEndpoint', account: 'endpoint', defaultValue: atPda('endpoint', { node: 'node' }) },
  ]),
);
await codama.accept(renderVisitor(out));

const banner = (what) =>
  [
    '/**',
    ` * ${what}`,
    ' *',
    ' * Written by scripts/generate.mjs from idl/verdict.json; do not edit it,',
    ' * regenerate it with `npm run generate`.',
    ' */',
    '',
  ].join('\n');
const hex = (bytes) => bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
const sorted = [...events].sort((a, b) => a.name.localeCompare(b.name));

const eventsTs = [
  banner(
    "The program's events: their union, decoding one from its bytes, and parsing them from a transaction's logs.",
  ),
  'import { getBase64Encoder, type ReadonlyUint8Array } from "@solana/kit";',
  'import {',
  ...sorted.flatMap(({ name }) => [`  get${name}Decoder,`, `  type ${name},`]),
  '} from "./types";',
  '',
  '/** An event the program emitted, tagged with its IDL name. */',
  'export type VerdictEvent =',
  ...sorted.map(({ name }, i) => `  | { name: "${name}"; data: ${name} }${i === sorted.length - 1 ? ';' : ''}`),
  '',
  'export type VerdictEventName = VerdictEvent["name"];',
  '',
  "/** Each event's 8-byte discriminator (the first bytes of its data), from the IDL. */",
  'export const VERDICT_EVENT_DISCRIMINATORS: Readonly<Record<VerdictEventName, ReadonlyUint8Array>> = {',
  ...sorted.map(({ name, discriminator }) => `  ${name}: new Uint8Array([${discriminator.join(', ')}]),`),
  '};',
  '',
  '/**',
  " * Decodes one event's bytes (discriminator then Borsh data, as `emit!`",
  ' * logs them). Null when the discriminator is no Verdict event or the data',
  ' * does not decode.',
  ' */',
  'export function decodeVerdictEvent(bytes: ReadonlyUint8Array): VerdictEvent | null {',
  '  if (bytes.length < 8) {',
  '    return null;',
  '  }',
  '  let key = "";',
  '  for (let i = 0; i < 8; i++) {',
  '    key += bytes[i].toString(16).padStart(2, "0");',
  '  }',
  '  try {',
  '    switch (key) {',
  ...sorted.flatMap(({ name, discriminator }) => [
    `      case "${hex(discriminator)}":`,
    `        return { name: "${name}", data: get${name}Decoder().decode(bytes) };`,
  ]),
  '      default:',
  '        return null;',
  '    }',
  '  } catch {',
  '    return null;',
  '  }',
  '}',
  '',
  '/**',
  " * The events in a transaction's log messages: lines `Program data: <base64>`",
  ' * (and `Program log: Program data: <base64>`, as the natively run program',
  ' * logs them), in order; other lines and undecodable data are skipped.',
  ' */',
  'export function parseVerdictEvents(logs: readonly string[]): VerdictEvent[] {',
  '  const base64 = getBase64Encoder();',
  '  const events: VerdictEvent[] = [];',
  '  for (const line of logs) {',
  '    const prefix = ["Program data: ", "Program log: Program data: "].find((p) =>',
  '      line.startsWith(p),',
  '    );',
  '    if (prefix === undefined) {',
  '      continue;',
  '    }',
  '    const [payload] = line.slice(prefix.length).trim().split(/\\s+/);',
  '    let bytes: ReadonlyUint8Array;',
  '    try {',
  '      bytes = base64.encode(payload);',
  '    } catch {',
  '      continue;',
  '    }',
  '    const event = decodeVerdictEvent(bytes);',
  '    if (event !== null) {',
  '      events.push(event);',
  '    }',
  '  }',
  '  return events;',
  '}',
  '',
].join('\n');
writeFileSync(join(out, 'events.ts'), eventsTs);

const errors = [...idl.errors].sort((a, b) => a.code - b.code);
const errorsTs = [
  banner("The program's errors by code: their IDL name and message."),
  '/** The name of an error the IDL lists. */',
  'export type VerdictErrorName =',
  ...errors.map((e, i) => `  | "${e.name}"${i === errors.length - 1 ? ';' : ''}`),
  '',
  '/** Every IDL error by its code (6000 and up), whatever NODE_ENV says. */',
  'export const VERDICT_PROGRAM_ERRORS: Readonly<',
  '  Record<number, { readonly name: VerdictErrorName; readonly message: string }>',
  '> = {',
  ...errors.map((e) => `  ${e.code}: { name: "${e.name}", message: ${JSON.stringify(e.msg ?? '')} },`),
  '};',
  '',
].join('\n');
writeFileSync(join(out, 'programErrors.ts'), errorsTs);

// The two files join the generated index.
const index = join(out, 'index.ts');
writeFileSync(
  index,
  readFileSync(index, 'utf8') + 'export * from "./events";\nexport * from "./programErrors";\n',
);
console.log(`generated ${out}`);
