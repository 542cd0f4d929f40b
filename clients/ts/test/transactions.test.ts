// sendAndConfirm against a fake JSON-RPC node: the legacy transaction it
// sends, confirmation by polling getSignatureStatuses, and program refusals
// (at preflight, or landed) thrown as VerdictProgramError with the IDL's
// name and message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSolanaRpc,
  generateKeyPairSigner,
  getBase64Encoder,
  getTransactionDecoder,
  getCompiledTransactionMessageDecoder,
  isSolanaError,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  type Address,
} from '@solana/kit';
import {
  TransactionFailedError,
  VERDICT_PROGRAM_ADDRESS,
  VerdictProgramError,
  describeProgramError,
  sendAndConfirm,
  type SignableInstruction,
} from '../src';
import { randomAddress } from './fixtures';
import { sendJson, startFake } from './httpFakes';

type Call = { method: string; params: unknown[] };

const FEE_BELOW_MINIMUM = 6037;
const LOGS = [
  `Program ${VERDICT_PROGRAM_ADDRESS} invoke [1]`,
  'Program log: Instruction: SubmitJob',
  'Program log: AnchorError thrown in programs/verdict/src/instructions/submit_job.rs:70. Error Code: FeeBelowMinimum. Error Number: 6037. Error Message: the job fee is below the minimum.',
  `Program ${VERDICT_PROGRAM_ADDRESS} failed: custom program error: 0x1795`,
];

/** A JSON-RPC node: `answer` gives each call's result, or an error object. */
async function fakeRpc(answer: (call: Call, n: number) => { result?: unknown; error?: unknown }) {
  const calls: Call[] = [];
  const fake = await startFake((_req, res, body) => {
    const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
    const call = { method, params };
    calls.push(call);
    const n = calls.filter((c) => c.method === method).length;
    sendJson(res, 200, { jsonrpc: '2.0', id, ...answer(call, n) });
  });
  return Object.assign(fake, { calls, rpc: createSolanaRpc(fake.url) });
}

const blockhash = randomAddress();
const latest = { result: { context: { slot: 1 }, value: { blockhash, lastValidBlockHeight: 1000 } } };
const status = (err: unknown, confirmationStatus: string) => ({
  result: { context: { slot: 2 }, value: [{ slot: 2, confirmations: null, err, status: err ? { Err: err } : { Ok: null }, confirmationStatus }] },
});

function ix(programAddress: Address = VERDICT_PROGRAM_ADDRESS): SignableInstruction {
  return { programAddress, accounts: [], data: new Uint8Array([1, 2, 3]) };
}

test('sends one legacy transaction (base64, preflight) and polls its status until confirmed', async () => {
  const signer = await generateKeyPairSigner();
  const node = await fakeRpc((call, n) => {
    switch (call.method) {
      case 'getLatestBlockhash':
        return latest;
      case 'sendTransaction':
        return { result: 'ignored' };
      case 'getSignatureStatuses':
        return n === 1 ? { result: { context: { slot: 2 }, value: [null] } } : n === 2 ? status(null, 'processed') : status(null, 'confirmed');
      default:
        return { error: { code: -32601, message: 'Method not found' } };
    }
  });
  try {
    const signature = await sendAndConfirm(node.rpc, [ix()], signer, { pollMs: 10 });
    const send = node.calls.find((c) => c.method === 'sendTransaction')!;
    const [wire, config] = send.params as [string, { encoding: string; skipPreflight: boolean }];
    assert.equal(config.encoding, 'base64');
    assert.equal(config.skipPreflight, false);
    const tx = getTransactionDecoder().decode(getBase64Encoder().encode(wire));
    const message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    assert.equal(message.version, 'legacy');
    assert.equal(message.staticAccounts[0], signer.address, 'the signer pays the fee');
    assert.equal(message.lifetimeToken, blockhash);
    assert.equal(node.calls.filter((c) => c.method === 'getSignatureStatuses').length, 3);
    assert.deepEqual((node.calls.at(-1)!.params as string[][])[0], [signature]);
  } finally {
    await node.close();
  }
});

test('a preflight refusal by the program is a VerdictProgramError named from the IDL', async () => {
  const signer = await generateKeyPairSigner();
  const node = await fakeRpc((call) =>
    call.method === 'getLatestBlockhash'
      ? latest
      : {
          error: {
            code: -32002,
            message: 'Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1795',
            data: {
              accounts: null,
              err: { InstructionError: [0, { Custom: FEE_BELOW_MINIMUM }] },
              logs: LOGS,
              unitsConsumed: 4321,
              returnData: null,
            },
          },
        },
  );
  try {
    await assert.rejects(sendAndConfirm(node.rpc, [ix()], signer), (e: unknown) => {
      assert.ok(e instanceof VerdictProgramError, String(e));
      assert.equal(e.code, FEE_BELOW_MINIMUM);
      assert.equal(e.name, 'FeeBelowMinimum');
      assert.equal(e.message, 'the job fee is below the minimum');
      assert.deepEqual(e.logs, LOGS);
      assert.equal(e.instructionIndex, 0);
      return true;
    });
    assert.equal(node.calls.filter((c) => c.method === 'getSignatureStatuses').length, 0);
  } finally {
    await node.close();
  }
});

test('a custom error of another program is not the Verdict program\'s', async () => {
  const signer = await generateKeyPairSigner();
  const node = await fakeRpc((call) =>
    call.method === 'getLatestBlockhash'
      ? latest
      : {
          error: {
            code: -32002,
            message: 'Transaction simulation failed',
            data: { accounts: null, err: { InstructionError: [0, { Custom: 1 }] }, logs: [], unitsConsumed: 0, returnData: null },
          },
        },
  );
  try {
    const token = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA' as Address;
    await assert.rejects(sendAndConfirm(node.rpc, [ix(token)], signer), (e: unknown) => {
      assert.ok(!(e instanceof VerdictProgramError));
      assert.ok(isSolanaError(e, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE));
      return true;
    });
  } finally {
    await node.close();
  }
});

test('a landed refusal is a VerdictProgramError with the logs (json refused: base64)', async () => {
  const signer = await generateKeyPairSigner();
  const err = { InstructionError: [0, { Custom: FEE_BELOW_MINIMUM }] };
  const node = await fakeRpc((call) => {
    switch (call.method) {
      case 'getLatestBlockhash':
        return latest;
      case 'sendTransaction':
        return { result: 'ignored' };
      case 'getSignatureStatuses':
        return status(err, 'confirmed');
      case 'getTransaction': {
        const [, config] = call.params as [string, { encoding: string }];
        if (config.encoding === 'json') {
          return { error: { code: -32602, message: 'unsupported encoding: Json. The bridge serves base58 and base64' } };
        }
        return { result: { slot: 2, blockTime: null, meta: { err, fee: 5000, logMessages: LOGS }, transaction: ['', 'base64'] } };
      }
      default:
        return { error: { code: -32601, message: 'Method not found' } };
    }
  });
  try {
    await assert.rejects(sendAndConfirm(node.rpc, [ix()], signer, { skipPreflight: true }), (e: unknown) => {
      assert.ok(e instanceof VerdictProgramError, String(e));
      assert.equal(e.name, 'FeeBelowMinimum');
      assert.deepEqual(e.logs, LOGS);
      assert.ok(e.signature);
      return true;
    });
  } finally {
    await node.close();
  }
});

test('a landed failure that is not a program error is a TransactionFailedError', async () => {
  const signer = await generateKeyPairSigner();
  const node = await fakeRpc((call) =>
    call.method === 'getLatestBlockhash'
      ? latest
      : call.method === 'sendTransaction'
        ? { result: 'ignored' }
        : call.method === 'getSignatureStatuses'
          ? status('InsufficientFundsForFee', 'confirmed')
          : { result: null },
  );
  try {
    await assert.rejects(sendAndConfirm(node.rpc, [ix()], signer), TransactionFailedError);
  } finally {
    await node.close();
  }
});

test('Anchor framework errors are named from the logs', () => {
  const logs = [
    'Program log: AnchorError caused by account: job. Error Code: ConstraintSeeds. Error Number: 2006. Error Message: A seeds constraint was violated.',
  ];
  assert.deepEqual(describeProgramError(2006, logs), { name: 'ConstraintSeeds', message: 'A seeds constraint was violated' });
  assert.deepEqual(describeProgramError(6037), { name: 'FeeBelowMinimum', message: 'the job fee is below the minimum' });
  assert.equal(describeProgramError(1), null);
});
