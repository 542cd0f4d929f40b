// Checks a keeper's answer against the chain before anyone uses it: the
// input and output hashes, the receipt, the miner's signing key and its
// ed25519 signature over the response message.
import {
  getAddressEncoder,
  getPublicKeyFromAddress,
  isAddress,
  signatureBytes,
  verifySignature,
  type Address,
  type ReadonlyUint8Array,
} from '@solana/kit';
import { bytesEqual, concatBytes, fromHex, sha256, toHex, u32le, utf8 } from './bytes';
import { VerificationError } from './errors';
import { JobStatus, type Job, type Node } from './generated';
import type { JobView, MinerReceipt } from './keeperTypes';
import { GENERATIVE_MODELS, EMBEDDING_MODELS } from './generation';
import { isWellFormedTensor, tensorHash, tensorTokens, tensorValues, type OutputTensor } from './tensor';

/** A result that checked out: every field of it is backed by the chain or the miner's signature. */
export type VerifiedResult = {
  /** The Job account. */
  job: Address;
  /** The output as floats (each value divided by the scale); a generation's token ids. */
  output: number[];
  /** A generation's text, covered by the output hash (null for an embedding). */
  text: string | null;
  /** A generation's token ids (null for an embedding). */
  tokens: number[] | null;
  /** Generated tokens per second over the signed inference time (null for an embedding or no time). */
  tokensPerSecond: number | null;
  /** The rounded output as the miner sent it. */
  tensor: OutputTensor;
  /** The output's tensor hash (hex), equal to the job's on-chain output hash. */
  outputHash: string;
  /** The miner's Node account. */
  miner: Address;
  /** The miner's ed25519 signing key (its Node's `signingKey`), which signed the output. */
  minerKey: Address;
  /** Response time recorded on chain, in ms. */
  responseMs: number;
  /** What the miner signed besides the job and the output. */
  receipt: MinerReceipt;
  /** The on-chain Job account as read. */
  jobAccount: Job;
};

const RESPONSE_DOMAIN = 'VERDICT-MINER-RESPONSE-V2';
const RESPONSE_DOMAIN_V1 = 'VERDICT-MINER-RESPONSE-V1';
const MODEL_ID_BYTES = 32;

/** sha256 of the input's UTF-8 bytes: the job's input hash. */
export function inputHash(input: string): Uint8Array {
  return sha256(input);
}

/** A model name as the program stores it: UTF-8, zero padded to 32 bytes. Throws a RangeError when longer. */
export function modelIdBytes(model: string): Uint8Array {
  const bytes = utf8(model);
  if (bytes.length === 0 || bytes.length > MODEL_ID_BYTES) {
    throw new RangeError(`a model id is 1 to ${MODEL_ID_BYTES} bytes; "${model}" is ${bytes.length}`);
  }
  const out = new Uint8Array(MODEL_ID_BYTES);
  out.set(bytes);
  return out;
}

/** The model name in an on-chain 32-byte model id (up to the first zero byte). */
export function decodeModelId(model: ReadonlyUint8Array): string {
  const end = model.indexOf(0);
  return new TextDecoder().decode(model.slice(0, end === -1 ? model.length : end));
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/**
 * The exact bytes a miner signs (version 2):
 * `"VERDICT-MINER-RESPONSE-V2" ‖ job account (32) ‖ u8 len(model id) ‖
 * model id ‖ input hash (32) ‖ output hash (32) ‖ probe digest (32) ‖
 * sampled as (32) ‖ load time ms (u32 LE) ‖ inference time µs (u32 LE)`.
 * Without `commitment` it builds version 1 (tag `-V1`, neither field),
 * which receipts stored before version 2 carry.
 */
export function minerResponseMessage(args: {
  job: Address;
  modelId: string;
  inputHash: ArrayLike<number>;
  outputHash: ArrayLike<number>;
  /** Version 2: the probe digest (32 bytes) and whose seed the miner used. */
  commitment?: { probeDigest: ArrayLike<number>; sampledAs: Address } | null;
  loadTimeMs: number;
  inferenceTimeUs: number;
}): Uint8Array {
  const model = utf8(args.modelId);
  if (model.length > 255 || args.inputHash.length !== 32 || args.outputHash.length !== 32) {
    throw new RangeError('a model id of at most 255 bytes and 32-byte hashes');
  }
  if (!isU32(args.loadTimeMs) || !isU32(args.inferenceTimeUs)) {
    throw new RangeError('load and inference times are u32');
  }
  const commitment = args.commitment ?? null;
  if (commitment !== null && commitment.probeDigest.length !== 32) {
    throw new RangeError('a 32-byte probe digest');
  }
  return concatBytes([
    utf8(commitment === null ? RESPONSE_DOMAIN_V1 : RESPONSE_DOMAIN),
    getAddressEncoder().encode(args.job),
    [model.length],
    model,
    args.inputHash,
    args.outputHash,
    ...(commitment === null ? [] : [commitment.probeDigest, getAddressEncoder().encode(commitment.sampledAs)]),
    u32le(args.loadTimeMs),
    u32le(args.inferenceTimeUs),
  ]);
}

/**
 * The version 2 commitment a receipt signs: both `probe_digest` and
 * `sampled_as`, or null (a version 1 receipt) when either is absent, as
 * Rust's `MinerReceipt::commitment` reads it. Throws a RangeError on a
 * digest that is not 32 bytes of hex or a key that is not base58.
 */
export function receiptCommitment(receipt: MinerReceipt): { probeDigest: Uint8Array; sampledAs: Address } | null {
  if (receipt.probe_digest == null || receipt.sampled_as == null) {
    return null;
  }
  const probeDigest = fromHex(receipt.probe_digest);
  if (probeDigest === null || probeDigest.length !== 32 || !isAddress(receipt.sampled_as)) {
    throw new RangeError('a probe digest of 32 bytes of hex and a base58 key');
  }
  return { probeDigest, sampledAs: receipt.sampled_as };
}

/**
 * Verifies a keeper's view of a done job against the on-chain Job and the
 * miner's Node, and returns the result; throws a VerificationError (with
 * its `reason`) at the first check that fails:
 * the input hashes to the job's input hash; the job is Solved or Paid; the output is a well-formed
 * tensor whose hash is the job's output hash (as is the keeper's
 * output_hash); the keeper names the job's miner; the receipt is for the
 * job's input and model; its key is the miner Node's signing key and its
 * signature verifies over the response message.
 */
export async function verifyResult(args: {
  job: Address;
  input: string;
  view: JobView;
  jobAccount: Job;
  minerNode: Pick<Node, 'signingKey'>;
}): Promise<VerifiedResult> {
  const { job, input, view, jobAccount, minerNode } = args;
  const fail = (reason: ConstructorParameters<typeof VerificationError>[1], message: string): never => {
    throw new VerificationError(job, reason, message);
  };
  if (view.job !== job) {
    fail('job_mismatch', `the keeper answered for job ${view.job}`);
  }
  if (!bytesEqual(inputHash(input), jobAccount.inputHash)) {
    fail('input_hash_mismatch', "sha256(input) is not the job's input hash");
  }
  if (jobAccount.status !== JobStatus.Solved && jobAccount.status !== JobStatus.Paid) {
    fail('job_not_solved', `the job is ${JobStatus[jobAccount.status]} on chain, not Solved or Paid`);
  }
  const { output, output_hash: keeperHash, receipt, miner } = view;
  if (output === null || keeperHash === null || receipt === null || miner === null) {
    return fail('missing_output', 'the keeper gave no output, output hash, receipt or miner');
  }
  if (!isWellFormedTensor(output)) {
    fail('malformed_output', 'the output is not a well-formed tensor (dtype, scale, shape, data, text)');
  }
  const jobModel = decodeModelId(jobAccount.model);
  const tokens = tensorTokens(output);
  const generative = GENERATIVE_MODELS[jobModel];
  const fits =
    generative !== undefined
      ? tokens !== null && tokens.every((id) => id < generative.vocab)
      : !EMBEDDING_MODELS.includes(jobModel) || tokens === null;
  if (!fits) {
    fail('wrong_output_kind', `the output is not what model ${jobModel} produces`);
  }
  const outputHash = tensorHash(output);
  if (!bytesEqual(outputHash, jobAccount.outputHash)) {
    fail('output_hash_mismatch', "the output's tensor hash is not the job's on-chain output hash");
  }
  if (keeperHash.toLowerCase() !== toHex(jobAccount.outputHash)) {
    fail('keeper_hash_mismatch', "the keeper's output_hash is not the job's on-chain output hash");
  }
  if (miner !== jobAccount.miner) {
    fail('miner_mismatch', `the keeper names miner ${miner}, the job ${jobAccount.miner}`);
  }
  if (receipt.input_hash.toLowerCase() !== toHex(jobAccount.inputHash)) {
    fail('receipt_input_mismatch', "the receipt's input hash is not the job's");
  }
  let model: Uint8Array | null = null;
  try {
    model = modelIdBytes(receipt.model_id);
  } catch {
    model = null;
  }
  if (model === null || !bytesEqual(model, jobAccount.model)) {
    fail('receipt_model_mismatch', `the receipt is for model "${receipt.model_id}", not the job's`);
  }
  if (!isAddress(receipt.miner_pubkey)) {
    return fail('invalid_public_key', 'the receipt key is not a base58 ed25519 key');
  }
  const minerKey = receipt.miner_pubkey;
  if (minerKey !== minerNode.signingKey) {
    fail('signing_key_mismatch', `the receipt is signed by ${minerKey}, the miner's signing key is ${minerNode.signingKey}`);
  }
  let publicKey: Awaited<ReturnType<typeof getPublicKeyFromAddress>>;
  try {
    publicKey = await getPublicKeyFromAddress(minerKey);
  } catch {
    return fail('invalid_public_key', `${minerKey} is not an ed25519 public key`);
  }
  let valid = false;
  try {
    const sig = fromHex(receipt.signature);
    if (sig !== null && sig.length === 64) {
      const message = minerResponseMessage({
        job,
        modelId: receipt.model_id,
        inputHash: jobAccount.inputHash,
        outputHash: jobAccount.outputHash,
        commitment: receiptCommitment(receipt),
        loadTimeMs: receipt.load_time_ms,
        inferenceTimeUs: receipt.inference_time_us,
      });
      valid = await verifySignature(publicKey, signatureBytes(sig), message);
    }
  } catch {
    valid = false;
  }
  if (!valid) {
    fail('bad_signature', "the miner's signature does not verify over the response");
  }
  return {
    job,
    output: tensorValues(output),
    text: tokens === null ? null : (output.text ?? null),
    tokens,
    tokensPerSecond:
      tokens === null || receipt.inference_time_us === 0 ? null : (tokens.length * 1e6) / receipt.inference_time_us,
    tensor: output,
    outputHash: toHex(outputHash),
    miner: jobAccount.miner,
    minerKey,
    responseMs: jobAccount.responseMs,
    receipt,
    jobAccount,
  };
}
