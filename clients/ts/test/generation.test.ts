// Text generation: the job input's JSON bytes against what Rust's serde_json
// writes (golden vectors from sdk/src/client/verify.rs), the bounds, the
// tensor hash over token ids and text, the V2 signed message, and
// verification of a generation with every tampering refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { address, type TransactionSigner } from '@solana/kit';
import {
  GenerationInputError,
  JobStatus,
  MAX_PROMPT_BYTES,
  SMOLLM2_ID,
  VerificationError,
  generationInput,
  greedyGenerationInput,
  isWellFormedTensor,
  minerResponseMessage,
  parseGenerationInput,
  parseJobView,
  receiptCommitment,
  submitJob,
  RiskLevel,
  type VerdictRpc,
  tensorHash,
  verifyResult,
  type GenerationInputReason,
  type OutputTensor,
  type VerificationReason,
} from '../src';
import { cat, hex, i32, makeJobAccount, makeScenario, modelBytes, probeDigest, randomAddress, sha, u32, utf8Bytes, type Scenario } from './fixtures';

// The golden vectors, as sdk/src/client/verify.rs asserts them
// (golden_vectors_shared_with_the_typescript_client).
const GOLDEN_PROMPT = 'Say "hi"\\ \n\t\u0001\u001f é — 🦀 </script> \u007f\u2028';
const GOLDEN_INPUT =
  '{"prompt":"Say \\"hi\\"\\\\ \\n\\t\\u0001\\u001f é — 🦀 </script> \u007f\u2028","max_tokens":5,"top_k":40,"temperature_milli":700}';
const GOLDEN_INPUT_HASH = '5b084ec8fdc631f203a3936ec4027f3cda8e341fc329de31a9d936020d84eff3';
const GOLDEN_TENSOR_HASH = '4dafb29f9eb6cd548755f0cc37f9bb78369e35dccf8bd6cc1dcded860621de6a';
const GOLDEN_PROBE_DIGEST = 'fbee96bda2697244817ab24edd52f8c55288336a81ddb8fe83f913d043440e84';
const GOLDEN_MESSAGE_V2 =
  '564552444943542d4d494e45522d524553504f4e53452d5632030303030303030303030303030303030303030303030303030303030303030318736d6f6c6c6d322d3133356d2d696e7374727563742d71345b084ec8fdc631f203a3936ec4027f3cda8e341fc329de31a9d936020d84eff34dafb29f9eb6cd548755f0cc37f9bb78369e35dccf8bd6cc1dcded860621de6afbee96bda2697244817ab24edd52f8c55288336a81ddb8fe83f913d043440e8406060606060606060606060606060606060606060606060606060606060606060c00000090d00300';
const GOLDEN_MINER_KEY = address('GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB');
const GOLDEN_JOB = address('CktRuQ2mttgRGkXJtyksdKHjUdc2C4TgDzyB98oEzy8');
const GOLDEN_SIGNATURE =
  '581df6aa7c4532755123e2135795fb787d300bc6bc08a6fbb03bb69b6241d0cc8628db7664a9bae4735bc03a795c661726c32b0d92fa92bb647feb533af9f602';
const GOLDEN_TENSOR: OutputTensor = { shape: [5], dtype: 'token', scale: 1, data: [19556, 28, 1073, 314, 2], text: 'Hello, how are you' };
const GOLDEN_PROBES = [{ layer: 7, token: 3, dim: 100, value: -1234 }];

test('generation input: the same bytes as Rust (serde_json) on a tricky prompt', () => {
  const input = generationInput({ prompt: GOLDEN_PROMPT, maxTokens: 5, topK: 40, temperatureMilli: 700 });
  assert.equal(input, GOLDEN_INPUT);
  assert.equal(hex(sha(input)), GOLDEN_INPUT_HASH);
  // Defaults as GenerationInput::new: 48 tokens, top 40, 0.7.
  assert.equal(generationInput({ prompt: 'Say hi' }), '{"prompt":"Say hi","max_tokens":48,"top_k":40,"temperature_milli":700}');
  assert.equal(greedyGenerationInput('x', 4), '{"prompt":"x","max_tokens":4,"top_k":1,"temperature_milli":0}');
});

test('generation input: escaping follows serde_json for every control character and leaves the rest raw', () => {
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  for (let c = 0; c < 0x20; c++) {
    // serde_json: \b \t \n \f \r, else \u00 and two lowercase hex digits.
    const expected = short[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    const input = generationInput({ prompt: `a${String.fromCharCode(c)}b` });
    assert.ok(input.startsWith(`{"prompt":"a${expected}b",`), `U+${c.toString(16)}: ${input}`);
  }
  for (const raw of ['\u007f', '\u2028', '\u2029', '/', '<', "'", 'é', '😀', '\ufeff', '\u0085x']) {
    assert.ok(generationInput({ prompt: `a${raw}` }).startsWith(`{"prompt":"a${raw}",`), JSON.stringify(raw));
  }
  assert.ok(generationInput({ prompt: '"\\' }).startsWith('{"prompt":"\\"\\\\",'));
});

async function refusedInput(f: () => unknown, reason: GenerationInputReason): Promise<void> {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof GenerationInputError, String(e));
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

test('generation input: out-of-bounds requests are refused with their reason', async () => {
  await refusedInput(() => generationInput({ prompt: 'a\ud800b' }), 'malformed_prompt');
  await refusedInput(() => generationInput({ prompt: 'a\udc00' }), 'malformed_prompt');
  await refusedInput(() => generationInput({ prompt: '' }), 'empty_prompt');
  // Rust's trim: U+0085 and U+3000 are white space; U+FEFF is not.
  await refusedInput(() => generationInput({ prompt: ' \n\t\u0085\u3000' }), 'empty_prompt');
  generationInput({ prompt: '\ufeff' });
  await refusedInput(() => generationInput({ prompt: 'é'.repeat(MAX_PROMPT_BYTES / 2 + 1) }), 'prompt_too_long');
  generationInput({ prompt: 'é'.repeat(MAX_PROMPT_BYTES / 2) });
  await refusedInput(() => generationInput({ prompt: 'x', maxTokens: 0 }), 'max_tokens');
  await refusedInput(() => generationInput({ prompt: 'x', maxTokens: 257 }), 'max_tokens');
  await refusedInput(() => generationInput({ prompt: 'x', maxTokens: 1.5 }), 'max_tokens');
  await refusedInput(() => generationInput({ prompt: 'x', topK: 0 }), 'top_k');
  await refusedInput(() => generationInput({ prompt: 'x', topK: 201 }), 'top_k');
  await refusedInput(() => generationInput({ prompt: 'x', temperatureMilli: 2001 }), 'temperature');
  await refusedInput(() => generationInput({ prompt: 'x', temperatureMilli: -1 }), 'temperature');
  assert.deepEqual(parseGenerationInput(GOLDEN_INPUT), { prompt: GOLDEN_PROMPT, maxTokens: 5, topK: 40, temperatureMilli: 700 });
  await refusedInput(() => parseGenerationInput('Say hi'), 'not_json');
  await refusedInput(() => parseGenerationInput('{"prompt":"a","max_tokens":1,"top_k":1,"temperature_milli":0,"x":1}'), 'not_json');
  await refusedInput(() => parseGenerationInput('{"prompt":"a","max_tokens":0,"top_k":1,"temperature_milli":0}'), 'max_tokens');
});

test('tensor hash of a generation: token ids then u32 LE len(text) ‖ text, as Rust hashes it', () => {
  const text = utf8Bytes(GOLDEN_TENSOR.text!);
  const bytes = cat(
    utf8Bytes('VERDICT-TENSOR-V1'),
    new Uint8Array([5]),
    utf8Bytes('token'),
    u32(1),
    new Uint8Array([1]),
    u32(5),
    ...GOLDEN_TENSOR.data.map(i32),
    u32(text.length),
    text,
  );
  assert.equal(hex(sha(bytes)), GOLDEN_TENSOR_HASH);
  assert.equal(hex(tensorHash(GOLDEN_TENSOR)), GOLDEN_TENSOR_HASH);
  // The text counts: same ids, other text, other hash.
  assert.notEqual(hex(tensorHash({ ...GOLDEN_TENSOR, text: 'Hello, how are you!' })), GOLDEN_TENSOR_HASH);
  // An embedding's hash is unchanged by the field's absence or null.
  const f32 = { dtype: 'f32', scale: 10_000, shape: [2], data: [1, 2] };
  assert.equal(hex(tensorHash({ ...f32, text: null })), '6a7b53822f43baaf7d9398e3764717b3b5b56b1b7df9f52e7ac16992729b09b4');
  assert.ok(!isWellFormedTensor({ ...GOLDEN_TENSOR, text: null }), 'a generation has text');
  assert.ok(!isWellFormedTensor({ ...GOLDEN_TENSOR, scale: 2 }));
  assert.ok(!isWellFormedTensor({ ...GOLDEN_TENSOR, shape: [5, 1] }));
  assert.ok(!isWellFormedTensor({ ...GOLDEN_TENSOR, data: [-1, 28, 1073, 314, 2] }));
  assert.ok(!isWellFormedTensor({ ...f32, text: 'x' }), 'an embedding has none');
});

test('the V2 message and probe digest, byte for byte as Rust builds them', () => {
  const digest = probeDigest(GOLDEN_PROBES);
  assert.equal(hex(digest), GOLDEN_PROBE_DIGEST);
  const message = minerResponseMessage({
    job: GOLDEN_JOB,
    modelId: SMOLLM2_ID,
    inputHash: sha(GOLDEN_INPUT),
    outputHash: tensorHash(GOLDEN_TENSOR),
    commitment: { probeDigest: digest, sampledAs: address('QWmroo4YnnMqYW3cnxWkFdaTxGD3P7vMSzwMHGbUzwF') },
    loadTimeMs: 12,
    inferenceTimeUs: 250_000,
  });
  // sampled_as [6; 32] in the Rust vector.
  assert.equal(hex(message), GOLDEN_MESSAGE_V2);
  assert.equal(message.length, 25 + 32 + 1 + SMOLLM2_ID.length + 32 * 4 + 8);
  assert.equal(receiptCommitment({ ...baseReceipt(), probe_digest: null, sampled_as: GOLDEN_MINER_KEY }), null);
  assert.throws(() => receiptCommitment({ ...baseReceipt(), probe_digest: 'abcd', sampled_as: GOLDEN_MINER_KEY }), RangeError);
});

function baseReceipt() {
  return {
    model_id: SMOLLM2_ID,
    input_hash: GOLDEN_INPUT_HASH,
    load_time_ms: 0,
    inference_time_us: 250_000,
    miner_pubkey: GOLDEN_MINER_KEY,
    signature: GOLDEN_SIGNATURE,
    probe_digest: GOLDEN_PROBE_DIGEST,
    sampled_as: GOLDEN_MINER_KEY,
  };
}

/** The generation Rust signed (key [7; 32]), as a keeper would serve it and the chain hold it. */
function goldenScenario(): Omit<Scenario, 'minerPrivateKey'> {
  const miner = randomAddress();
  return {
    job: GOLDEN_JOB,
    input: GOLDEN_INPUT,
    jobAccount: makeJobAccount({
      model: modelBytes(SMOLLM2_ID),
      inputHash: sha(GOLDEN_INPUT),
      outputHash: tensorHash(GOLDEN_TENSOR),
      miner,
    }),
    minerNode: { signingKey: GOLDEN_MINER_KEY },
    view: {
      job: GOLDEN_JOB,
      status: 'done',
      miner,
      output: GOLDEN_TENSOR,
      output_hash: GOLDEN_TENSOR_HASH,
      response_ms: 300,
      receipt: baseReceipt(),
      error: null,
      miners_failed: 0,
    },
  };
}

test('a generation signed by Rust verifies here, with its text, tokens and speed', async () => {
  const golden = goldenScenario();
  const parsed = parseJobView(JSON.parse(JSON.stringify(golden.view)));
  assert.ok(parsed !== null);
  assert.equal(parsed.output?.text, 'Hello, how are you');
  assert.equal(parsed.receipt?.sampled_as, GOLDEN_MINER_KEY);
  const result = await verifyResult({ ...golden, view: parsed });
  assert.equal(result.text, 'Hello, how are you');
  assert.deepEqual(result.tokens, [19556, 28, 1073, 314, 2]);
  assert.equal(result.tokensPerSecond, 20);
  assert.equal(result.outputHash, GOLDEN_TENSOR_HASH);
  const paid = goldenScenario();
  paid.jobAccount = { ...paid.jobAccount, status: JobStatus.Paid };
  await verifyResult(paid);
});

async function refused(s: Omit<Scenario, 'minerPrivateKey'>, reason: VerificationReason): Promise<void> {
  await assert.rejects(verifyResult(s), (e: unknown) => {
    assert.ok(e instanceof VerificationError, `a VerificationError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

test('a generation with other text, or another signed commitment, is refused', async () => {
  // Same token ids, other text: the output hash covers the text.
  const retexted = goldenScenario();
  retexted.view.output = { ...GOLDEN_TENSOR, text: 'Send all your tokens to me' };
  await refused(retexted, 'output_hash_mismatch');
  const untexted = goldenScenario();
  untexted.view.output = { ...GOLDEN_TENSOR, text: null };
  await refused(untexted, 'malformed_output');
  for (const receipt of [
    { probe_digest: hex(sha('other probes')) },
    { sampled_as: randomAddress() },
    // Stripped to a V1 receipt, or half of the commitment gone.
    { probe_digest: null, sampled_as: null },
    { sampled_as: null },
    { probe_digest: 'not hex' },
  ]) {
    const s = goldenScenario();
    s.view.receipt = { ...baseReceipt(), ...receipt };
    await refused(s, 'bad_signature');
  }
});

test('an output of the wrong kind for the model is refused', async () => {
  const embedding = goldenScenario();
  const f32: OutputTensor = { dtype: 'f32', scale: 10_000, shape: [1], data: [5] };
  embedding.view.output = f32;
  embedding.jobAccount = { ...embedding.jobAccount, outputHash: tensorHash(f32) };
  await refused(embedding, 'wrong_output_kind');
  const pastVocab = goldenScenario();
  const big: OutputTensor = { ...GOLDEN_TENSOR, shape: [1], data: [49_152] };
  pastVocab.view.output = big;
  pastVocab.jobAccount = { ...pastVocab.jobAccount, outputHash: tensorHash(big) };
  await refused(pastVocab, 'wrong_output_kind');
  const tokensFromEmbedder = makeScenario({ tensor: GOLDEN_TENSOR });
  await refused(tokensFromEmbedder, 'wrong_output_kind');
});

test('fresh generations verify (V2), old V1 receipts still verify, embeddings have no text', async () => {
  const input = generationInput({ prompt: 'Say hi', maxTokens: 2 });
  const tensor: OutputTensor = { shape: [2], dtype: 'token', scale: 1, data: [1, 2], text: 'Hi' };
  const s = makeScenario({ model: SMOLLM2_ID, input, tensor, inferenceTimeUs: 0 });
  const result = await verifyResult(s);
  assert.equal(result.text, 'Hi');
  assert.equal(result.tokensPerSecond, null, 'no signed time, no speed');
  const v1 = makeScenario({ v1: true });
  assert.equal(v1.view.receipt?.probe_digest, undefined);
  const embedding = await verifyResult(v1);
  assert.equal(embedding.text, null);
  assert.equal(embedding.tokens, null);
  // A V1 receipt given a commitment it never signed is refused.
  v1.view.receipt = { ...v1.view.receipt!, probe_digest: hex(sha('x')), sampled_as: v1.minerNode.signingKey };
  await refused(v1, 'bad_signature');
});

test('submitJob refuses a generative job whose input is not a valid request, before any RPC', async () => {
  const rpc = new Proxy({}, {
    get() {
      throw new Error('no RPC call expected');
    },
  }) as VerdictRpc;
  const client = { address: randomAddress() } as unknown as TransactionSigner;
  const params = { tokenAccount: randomAddress(), model: SMOLLM2_ID, risk: RiskLevel.Low, maxFee: 1n };
  for (const [input, reason] of [
    ['Say hi', 'not_json'],
    ['{"prompt":"x","max_tokens":999,"top_k":1,"temperature_milli":0}', 'max_tokens'],
  ] as const) {
    await assert.rejects(submitJob(rpc, client, { ...params, input }), (e: unknown) => {
      assert.ok(e instanceof GenerationInputError, String(e));
      assert.equal(e.reason, reason);
      return true;
    });
  }
});
