// Test fixtures: a done job as a keeper would show it and as the chain
// holds it, signed by a real ed25519 miner key (node:crypto, independent of
// the client's own code), and a few byte helpers.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { address, getAddressDecoder, type Address } from '@solana/kit';
import { JobStatus, RiskLevel, tensorHash, type Job, type JobView, type OutputTensor } from '../src';

// (Uint8Array rather than Buffer throughout: @types/node 20.9's Buffer does
// not type-check as a Uint8Array under TypeScript 5.9.)
export const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
export const i32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
};
export const utf8Bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const sha = (data: Uint8Array | string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(typeof data === 'string' ? utf8Bytes(data) : data).digest());
export const randomBytes32 = (): Uint8Array => new Uint8Array(randomBytes(32));
export const randomAddress = (): Address => getAddressDecoder().decode(randomBytes32());

/** A fresh ed25519 key pair: the raw public key as an address, and the private key. */
export function minerKeyPair(): { address: Address; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
  return { address: getAddressDecoder().decode(raw), privateKey };
}

/**
 * The response message as the miner (Rust, wire::miner::response_message)
 * builds it: version 2 with a probe digest and `sampledAs`, version 1
 * (an old stored receipt) without.
 */
export function handBuiltMessage(args: {
  job: Address;
  modelId: string;
  inputHash: Uint8Array;
  outputHash: Uint8Array;
  probeDigest?: Uint8Array;
  sampledAs?: Address;
  loadTimeMs: number;
  inferenceTimeUs: number;
}): Uint8Array {
  const model = utf8Bytes(args.modelId);
  const v2 = args.probeDigest !== undefined && args.sampledAs !== undefined;
  return cat(
    utf8Bytes(v2 ? 'VERDICT-MINER-RESPONSE-V2' : 'VERDICT-MINER-RESPONSE-V1'),
    addressBytes(args.job),
    new Uint8Array([model.length]),
    model,
    args.inputHash,
    args.outputHash,
    ...(v2 ? [args.probeDigest!, addressBytes(args.sampledAs!)] : []),
    u32(args.loadTimeMs),
    u32(args.inferenceTimeUs),
  );
}

/** sha256("VERDICT-PROBES-V1" ‖ u32 LE count ‖ count × (u32 layer, u32 token, u32 dim, i32 value) LE), written out. */
export function probeDigest(probes: { layer: number; token: number; dim: number; value: number }[]): Uint8Array {
  return sha(
    cat(
      utf8Bytes('VERDICT-PROBES-V1'),
      u32(probes.length),
      ...probes.flatMap((p) => [u32(p.layer), u32(p.token), u32(p.dim), i32(p.value)]),
    ),
  );
}

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** base58 decoding written out (not kit's), for the job's 32 bytes in the message. */
export function addressBytes(text: string): Uint8Array {
  let n = 0n;
  for (const c of text) {
    n = n * 58n + BigInt(ALPHABET.indexOf(c));
  }
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function modelBytes(model: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(utf8Bytes(model));
  return out;
}

/** A Job account with every field, status Solved. */
export function makeJobAccount(fields: Partial<Job>): Job {
  return {
    discriminator: new Uint8Array(8),
    client: randomAddress(),
    refundAccount: randomAddress(),
    escrow: randomAddress(),
    jobId: 1n,
    model: new Uint8Array(32),
    inputHash: new Uint8Array(32),
    risk: RiskLevel.Low,
    status: JobStatus.Solved,
    maxFee: 1_000_000n,
    price: 500_000n,
    miner: randomAddress(),
    attempts: 1,
    outputHash: new Uint8Array(32),
    responseMs: 42,
    loadMs: 0,
    inferenceMs: 3,
    slaMet: 1,
    latencyScoreBps: 9_000,
    createdAt: 0n,
    openedAt: 0n,
    allocatedAt: 0n,
    solvedAt: 0n,
    releaseAt: 0n,
    committeeEpoch: 0n,
    signers: Array.from({ length: 8 }, () => address('11111111111111111111111111111111')),
    signerCount: 0,
    disputeOpen: 0,
    createdSlot: 0n,
    exposure: 0n,
    feeHeld: 0n,
    clientOwed: 0n,
    bump: 255,
    reserved: new Uint8Array(3),
    ...fields,
  };
}

export type Scenario = {
  job: Address;
  input: string;
  view: JobView;
  jobAccount: Job;
  minerNode: { signingKey: Address };
  minerPrivateKey: KeyObject;
};

/**
 * A done job whose keeper view, Job account and miner Node all agree,
 * honestly signed (version 2 message; `v1` for a receipt stored before
 * version 2). By default an embedding; pass a model, input and tensor for a
 * generation.
 */
export function makeScenario(
  options: { v1?: boolean; model?: string; input?: string; tensor?: OutputTensor; inferenceTimeUs?: number } = {},
): Scenario {
  const job = randomAddress();
  const input = options.input ?? 'The quick brown fox — jumps over the lazy dog';
  const model = options.model ?? 'test-projection-v1';
  const tensor: OutputTensor = options.tensor ?? { shape: [2, 2], dtype: 'f32', scale: 10_000, data: [1, -2, 30_000, 4] };
  const outputHash = tensorHash(tensor);
  const inputHash = sha(input);
  const miner = randomAddress();
  const key = minerKeyPair();
  const loadTimeMs = 12;
  const inferenceTimeUs = options.inferenceTimeUs ?? 3_456;
  const digest = probeDigest([{ layer: 3, token: 1, dim: 17, value: -42 }]);
  const commitment = options.v1 ? {} : { probeDigest: digest, sampledAs: key.address };
  const message = handBuiltMessage({ job, modelId: model, inputHash, outputHash, ...commitment, loadTimeMs, inferenceTimeUs });
  const signature = sign(null, message, key.privateKey).toString('hex');
  const jobAccount = makeJobAccount({
    model: modelBytes(model),
    inputHash,
    outputHash,
    miner,
  });
  const view: JobView = {
    job,
    status: 'done',
    miner,
    output: tensor,
    output_hash: hex(outputHash),
    response_ms: 42,
    receipt: {
      model_id: model,
      input_hash: hex(inputHash),
      load_time_ms: loadTimeMs,
      inference_time_us: inferenceTimeUs,
      miner_pubkey: key.address,
      signature,
      ...(options.v1 ? {} : { probe_digest: hex(digest), sampled_as: key.address }),
    },
    error: null,
    miners_failed: 0,
  };
  return { job, input, view, jobAccount, minerNode: { signingKey: key.address }, minerPrivateKey: key.privateKey };
}
