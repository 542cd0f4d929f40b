// Event decoding: synthetic `Program data:` lines built with the generated
// event encoders decode to the VerdictEvent union, in both log forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RiskLevel,
  VERDICT_EVENT_DISCRIMINATORS,
  decodeVerdictEvent,
  getJobCompletedEncoder,
  getJobSubmittedDecoder,
  getJobSubmittedEncoder,
  parseVerdictEvents,
  type VerdictEvent,
} from '../src';
import { hex, randomAddress, sha } from './fixtures';

const idl = JSON.parse(readFileSync(join(__dirname, '../../../../idl/verdict.json'), 'utf8')) as {
  events: { name: string; discriminator: number[] }[];
};

const b64 = (bytes: ArrayLike<number>) => Buffer.from(Uint8Array.from(bytes)).toString('base64');

test('every IDL event has its discriminator', () => {
  assert.equal(Object.keys(VERDICT_EVENT_DISCRIMINATORS).length, idl.events.length);
  for (const e of idl.events) {
    const d = VERDICT_EVENT_DISCRIMINATORS[e.name as keyof typeof VERDICT_EVENT_DISCRIMINATORS];
    assert.deepEqual([...d], e.discriminator, e.name);
  }
});

test('a JobSubmitted event round-trips through a Program data line', () => {
  const submitted = {
    job: randomAddress(),
    client: randomAddress(),
    jobId: 123_456_789n,
    model: new Uint8Array(32).fill(7),
    inputHash: sha('hello'),
    risk: RiskLevel.High,
    maxFee: 5_000_000n,
  };
  const bytes = getJobSubmittedEncoder().encode(submitted);
  const jobSubmitted = idl.events.find((e) => e.name === 'JobSubmitted')!;
  assert.deepEqual([...bytes.slice(0, 8)], jobSubmitted.discriminator, 'the encoder writes the discriminator');
  const completed = getJobCompletedEncoder().encode({
    job: submitted.job,
    miner: randomAddress(),
    outputHash: sha('out'),
    responseMs: 17,
    releaseAt: 1_700_000_000n,
    signers: 3,
  });
  const logs = [
    'Program VerDWoueCcWruGZZUvEbmMip6iAZDAtK91L2nkps4Q8 invoke [1]',
    'Program log: Instruction: SubmitJob',
    `Program data: ${b64(bytes)}`,
    'Program data: not-base64-!!',
    `Program data: ${b64([1, 2, 3, 4, 5, 6, 7, 8, 9])}`,
    `Program log: Program data: ${b64(completed)}`,
    'Program VerDWoueCcWruGZZUvEbmMip6iAZDAtK91L2nkps4Q8 success',
  ];
  const events = parseVerdictEvents(logs);
  assert.deepEqual(
    events.map((e) => e.name),
    ['JobSubmitted', 'JobCompleted'],
  );
  const [first, second] = events;
  assert.ok(first.name === 'JobSubmitted');
  assert.equal(first.data.job, submitted.job);
  assert.equal(first.data.jobId, submitted.jobId);
  assert.equal(first.data.risk, RiskLevel.High);
  assert.equal(first.data.maxFee, 5_000_000n);
  assert.equal(hex(Uint8Array.from(first.data.inputHash)), hex(submitted.inputHash));
  assert.ok(second.name === 'JobCompleted');
  assert.equal(second.data.responseMs, 17);
  assert.equal(second.data.signers, 3);
  assert.deepEqual(getJobSubmittedDecoder().decode(bytes), first.data);
});

test('decodeVerdictEvent: null for unknown, short or truncated data', () => {
  assert.equal(decodeVerdictEvent(new Uint8Array(4)), null);
  assert.equal(decodeVerdictEvent(new Uint8Array(64)), null);
  const d = VERDICT_EVENT_DISCRIMINATORS.JobSubmitted;
  assert.equal(decodeVerdictEvent(Uint8Array.from([...d, 1, 2, 3])), null);
  const ok: VerdictEvent | null = decodeVerdictEvent(
    getJobSubmittedEncoder().encode({
      job: randomAddress(),
      client: randomAddress(),
      jobId: 1n,
      model: new Uint8Array(32),
      inputHash: new Uint8Array(32),
      risk: RiskLevel.Low,
      maxFee: 1n,
    }),
  );
  assert.equal(ok?.name, 'JobSubmitted');
});
