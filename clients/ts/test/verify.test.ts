// Tensor hash, the miner's signed message and result verification, checked
// against bytes built independently here (node:crypto, Buffer), and each
// tampering refused with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import {
  JobStatus,
  VerificationError,
  isWellFormedTensor,
  minerResponseMessage,
  modelIdBytes,
  decodeModelId,
  tensorHash,
  tensorValues,
  verifyResult,
  type VerificationReason,
} from '../src';
import {
  cat,
  handBuiltMessage,
  hex,
  i32,
  makeScenario,
  minerKeyPair,
  randomAddress,
  sha,
  u32,
  utf8Bytes,
  type Scenario,
} from './fixtures';

test('tensor hash: the known vector (f32, scale 10000, shape [2], data [1, 2])', () => {
  const bytes = cat(
    utf8Bytes('VERDICT-TENSOR-V1'),
    new Uint8Array([3]),
    utf8Bytes('f32'),
    u32(10_000),
    new Uint8Array([1]),
    u32(2),
    i32(1),
    i32(2),
  );
  assert.equal(hex(bytes), '564552444943542d54454e534f522d5631036633321027000001020000000100000002000000');
  const expected = hex(sha(bytes));
  // What node:crypto gives for those bytes, written down once.
  assert.equal(expected, '6a7b53822f43baaf7d9398e3764717b3b5b56b1b7df9f52e7ac16992729b09b4');
  const got = hex(tensorHash({ dtype: 'f32', scale: 10_000, shape: [2], data: [1, 2] }));
  assert.equal(got, expected);
});

test('tensor hash: negative values, rank 2, and every field changes it', () => {
  const t = { dtype: 'f32', scale: 10_000, shape: [2, 2], data: [-1, 2_147_483_647, -2_147_483_648, 0] };
  const bytes = cat(
    utf8Bytes('VERDICT-TENSOR-V1'),
    new Uint8Array([3]),
    utf8Bytes('f32'),
    u32(10_000),
    new Uint8Array([2]),
    u32(2),
    u32(2),
    ...t.data.map((v) => i32(v)),
  );
  const base = hex(tensorHash(t));
  assert.equal(base, hex(sha(bytes)));
  for (const other of [
    { ...t, scale: 1_000 },
    { ...t, shape: [4] },
    { ...t, shape: [1, 4] },
    { ...t, data: [0, 2_147_483_647, -2_147_483_648, 0] },
  ]) {
    assert.notEqual(hex(tensorHash(other)), base);
  }
});

test('well-formed tensors only', () => {
  const ok = { dtype: 'f32', scale: 10_000, shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
  assert.ok(isWellFormedTensor(ok));
  assert.ok(isWellFormedTensor({ ...ok, shape: [], data: [7] }), 'a scalar');
  assert.ok(!isWellFormedTensor({ ...ok, dtype: 'f16' }));
  assert.ok(!isWellFormedTensor({ ...ok, scale: 0 }));
  assert.ok(!isWellFormedTensor({ ...ok, scale: 1.5 }));
  assert.ok(!isWellFormedTensor({ ...ok, shape: [2, 2] }));
  assert.ok(!isWellFormedTensor({ ...ok, data: [1, 2, 3, 4, 5, 6.5] }));
  assert.ok(!isWellFormedTensor({ ...ok, data: [1, 2, 3, 4, 5, 2 ** 31] }));
  assert.ok(!isWellFormedTensor({ ...ok, shape: [2, -3] }));
  assert.throws(() => tensorHash({ ...ok, scale: 0 }), RangeError);
  assert.deepEqual(tensorValues({ ...ok, data: [10_000, -5_000, 1, 0, 2, 3] }), [1, -0.5, 0.0001, 0, 0.0002, 0.0003]);
});

test('the signed message, byte for byte', () => {
  const job = randomAddress();
  const args = {
    job,
    modelId: 'all-minilm-l6-v2',
    inputHash: sha('input'),
    outputHash: sha('output'),
    loadTimeMs: 0x01020304,
    inferenceTimeUs: 4_000_000_000,
  };
  const expected = handBuiltMessage(args);
  const got = Buffer.from(minerResponseMessage(args));
  assert.equal(got.toString('hex'), hex(expected));
  // 25 + 32 + 1 + 16 + 32 + 32 + 4 + 4
  assert.equal(got.length, 146);
  assert.equal(got.subarray(0, 25).toString('ascii'), 'VERDICT-MINER-RESPONSE-V1');
  assert.equal(got[57], 16);
  assert.equal(got.subarray(138, 142).toString('hex'), '04030201');
  assert.throws(() => minerResponseMessage({ ...args, loadTimeMs: -1 }), RangeError);
});

test('model ids are zero-padded UTF-8 of at most 32 bytes', () => {
  const bytes = modelIdBytes('test-projection-v1');
  assert.equal(bytes.length, 32);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 18)), 'test-projection-v1');
  assert.ok(bytes.subarray(18).every((b) => b === 0));
  assert.equal(decodeModelId(bytes), 'test-projection-v1');
  assert.throws(() => modelIdBytes('x'.repeat(33)), RangeError);
});

test('an honest result verifies', async () => {
  const s = makeScenario();
  const result = await verifyResult(s);
  assert.deepEqual(result.output, [0.0001, -0.0002, 3, 0.0004]);
  assert.equal(result.outputHash, s.view.output_hash);
  assert.equal(result.miner, s.jobAccount.miner);
  assert.equal(result.minerKey, s.minerNode.signingKey);
  assert.equal(result.responseMs, 42);
});

async function refused(s: Scenario, reason: VerificationReason): Promise<void> {
  await assert.rejects(verifyResult(s), (e: unknown) => {
    assert.ok(e instanceof VerificationError, `a VerificationError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

test('tampered output data is refused', async () => {
  const s = makeScenario();
  const output = s.view.output!;
  s.view.output = { ...output, data: [output.data[0] + 1, ...output.data.slice(1)] };
  await refused(s, 'output_hash_mismatch');
});

test('tampered output data with a recomputed output_hash is refused', async () => {
  const s = makeScenario();
  const output = s.view.output!;
  s.view.output = { ...output, data: [output.data[0] + 1, ...output.data.slice(1)] };
  s.view.output_hash = hex(tensorHash(s.view.output));
  await refused(s, 'output_hash_mismatch');
});

test('a wrong output_hash from the keeper is refused', async () => {
  const s = makeScenario();
  s.view.output_hash = hex(sha('something else'));
  await refused(s, 'keeper_hash_mismatch');
});

test('a malformed output is refused', async () => {
  const s = makeScenario();
  s.view.output = { ...s.view.output!, shape: [3] };
  await refused(s, 'malformed_output');
});

test('a job the chain has not solved is refused', async () => {
  for (const status of [JobStatus.Allocated, JobStatus.Refunded, JobStatus.Invalid]) {
    const s = makeScenario();
    s.jobAccount = { ...s.jobAccount, status };
    await refused(s, 'job_not_solved');
  }
  const paid = makeScenario();
  paid.jobAccount = { ...paid.jobAccount, status: JobStatus.Paid };
  await verifyResult(paid);
});

test('a wrong input is refused', async () => {
  const s = makeScenario();
  s.input += '!';
  await refused(s, 'input_hash_mismatch');
});

test('a receipt for another model or input is refused', async () => {
  const s = makeScenario();
  s.view.receipt = { ...s.view.receipt!, model_id: 'all-minilm-l6-v2' };
  await refused(s, 'receipt_model_mismatch');
  const t = makeScenario();
  t.view.receipt = { ...t.view.receipt!, input_hash: hex(sha('other')) };
  await refused(t, 'receipt_input_mismatch');
});

test('another miner than the job\'s is refused', async () => {
  const s = makeScenario();
  s.view.miner = randomAddress();
  await refused(s, 'miner_mismatch');
});

test('a wrong signer is refused (valid signature, not the Node\'s signing key)', async () => {
  const s = makeScenario();
  const other = minerKeyPair();
  const r = s.view.receipt!;
  const message = handBuiltMessage({
    job: s.job,
    modelId: r.model_id,
    inputHash: s.jobAccount.inputHash as Uint8Array,
    outputHash: s.jobAccount.outputHash as Uint8Array,
    loadTimeMs: r.load_time_ms,
    inferenceTimeUs: r.inference_time_us,
  });
  s.view.receipt = { ...r, miner_pubkey: other.address, signature: hex(new Uint8Array(sign(null, message, other.privateKey))) };
  await refused(s, 'signing_key_mismatch');
});

test('a wrong signature is refused', async () => {
  for (const tamper of [
    (sig: Uint8Array) => {
      sig[10] ^= 1;
      return hex(sig);
    },
    (sig: Uint8Array) => hex(sig.subarray(0, 63)),
    () => 'not hex at all',
  ]) {
    const s = makeScenario();
    const r = s.view.receipt!;
    s.view.receipt = { ...r, signature: tamper(new Uint8Array(Buffer.from(r.signature, 'hex'))) };
    await refused(s, 'bad_signature');
  }
  // Signed times that differ from the receipt's.
  const s = makeScenario();
  s.view.receipt = { ...s.view.receipt!, load_time_ms: s.view.receipt!.load_time_ms + 1 };
  await refused(s, 'bad_signature');
});

test('a view for another job, or without an output, is refused', async () => {
  const s = makeScenario();
  s.view.job = randomAddress();
  await refused(s, 'job_mismatch');
  const t = makeScenario();
  t.view.receipt = null;
  await refused(t, 'missing_output');
});
