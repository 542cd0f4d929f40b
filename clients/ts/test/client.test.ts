// The generated client agrees with the program: PDAs, the program address,
// instruction discriminators from the IDL, error names, and account codecs
// that round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSigner, getProgramDerivedAddress, getUtf8Encoder, address } from '@solana/kit';
import {
  VERDICT_PROGRAM_ADDRESS,
  findConfigPda,
  findCommitteePda,
  findEndpointPda,
  findVotePda,
  getCloseNodeEndpointInstructionAsync,
  getRevealVoteInstructionAsync,
  getSubmitJobInstructionDataEncoder,
  getVerdictErrorMessage,
  RiskLevel,
} from '../src';

import { randomAddress } from './fixtures';

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

test('async builders derive the accounts the program binds by their recorded keys', async () => {
  // The program checks a Vote by the dispute and voter it records, not by
  // its seeds, so the IDL has none there; it lives at its PDA all the same.
  const [operator, dispute, voter] = [await generateKeyPairSigner(), randomAddress(), randomAddress()];
  const reveal = await getRevealVoteInstructionAsync({
    operator,
    voter,
    dispute,
    operatorTokens: randomAddress(),
    result: new Uint8Array(32),
    salt: new Uint8Array(32),
  });
  const [vote] = await findVotePda({ dispute, voter });
  assert.equal(reveal.accounts[4].address, vote);

  const node = randomAddress();
  const close = await getCloseNodeEndpointInstructionAsync({ signer: operator, operator: operator.address, node });
  const [endpoint] = await findEndpointPda({ node });
  assert.equal(close.accounts[3].address, endpoint);
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
