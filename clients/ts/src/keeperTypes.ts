// The keeper's client API bodies (JobView and its parts, error bodies) and
// their checked parsing from untrusted JSON.
import type { OutputTensor } from './tensor';

/** Where a job stands at the keeper. */
export type JobProgress = 'queued' | 'running' | 'done' | 'failed';

/** What the miner signed besides the job and the output. */
export type MinerReceipt = {
  model_id: string;
  /** hex */
  input_hash: string;
  load_time_ms: number;
  inference_time_us: number;
  /** base58 ed25519 public key */
  miner_pubkey: string;
  /** hex, 64 bytes */
  signature: string;
  /**
   * Version 2 of the signed message (hex): the digest of the miner's probes.
   * With `sampled_as`, the signature is over the V2 message; a receipt
   * stored before version 2 has neither (V1 message).
   */
  probe_digest?: string | null;
  /** Version 2: whose seed the miner sampled and probed with (base58). */
  sampled_as?: string | null;
};

/** Why the keeper got no output. */
export type JobFailure = { code: string; message: string };

/**
 * A job as a keeper reports it (`GET /v1/jobs/<job>`; also the answer to
 * `POST /v1/jobs`). Nothing in it is trusted before `verifyResult`.
 */
export type JobView = {
  /** The Job account (base58). */
  job: string;
  status: JobProgress;
  /** The miner's Node account (base58), once done. */
  miner: string | null;
  output: OutputTensor | null;
  /** hex */
  output_hash: string | null;
  response_ms: number | null;
  receipt: MinerReceipt | null;
  error: JobFailure | null;
  miners_failed: number;
};

/** The body of every refusal. */
export type KeeperErrorBody = { error: string; message: string };

type Json = { [key: string]: unknown };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'number');
}

function nullable<T>(value: unknown, check: (v: unknown) => v is T): value is T | null | undefined {
  return value === null || value === undefined || check(value);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

function isTensor(v: unknown): v is OutputTensor {
  return (
    isObject(v) &&
    isNumberArray(v.shape) &&
    typeof v.dtype === 'string' &&
    isNumber(v.scale) &&
    isNumberArray(v.data) &&
    nullable(v.text, isString)
  );
}

function isReceipt(v: unknown): v is MinerReceipt {
  return (
    isObject(v) &&
    isString(v.model_id) &&
    isString(v.input_hash) &&
    isNumber(v.load_time_ms) &&
    isNumber(v.inference_time_us) &&
    isString(v.miner_pubkey) &&
    isString(v.signature) &&
    nullable(v.probe_digest, isString) &&
    nullable(v.sampled_as, isString)
  );
}

function isFailure(v: unknown): v is JobFailure {
  return isObject(v) && isString(v.code) && isString(v.message);
}

const PROGRESS: readonly string[] = ['queued', 'running', 'done', 'failed'];

/**
 * `body` as a JobView, or null when it is not one. The tensor's dtype is
 * kept as sent (any string) so a malformed output is refused by verification
 * with its own reason, not taken for a broken keeper.
 */
export function parseJobView(body: unknown): JobView | null {
  if (
    !isObject(body) ||
    !isString(body.job) ||
    !isString(body.status) ||
    !PROGRESS.includes(body.status) ||
    !nullable(body.miner, isString) ||
    !nullable(body.output, isTensor) ||
    !nullable(body.output_hash, isString) ||
    !nullable(body.response_ms, isNumber) ||
    !nullable(body.receipt, isReceipt) ||
    !nullable(body.error, isFailure) ||
    !isNumber(body.miners_failed)
  ) {
    return null;
  }
  return {
    job: body.job,
    status: body.status as JobProgress,
    miner: body.miner ?? null,
    output: body.output ?? null,
    output_hash: body.output_hash ?? null,
    response_ms: body.response_ms ?? null,
    receipt: body.receipt ?? null,
    error: body.error ?? null,
    miners_failed: body.miners_failed,
  };
}

/**
 * `GET /v1/quote`: what the miners that may take a job of a model at a
 * risk level ask now (their standing prices, in base units).
 */
export type QuoteView = {
  model_id: string;
  /** 0 low, 1 medium, 2 high. */
  risk: number;
  lowest: bigint;
  median: bigint;
  highest: bigint;
  /** How many eligible miners price it. */
  miners: number;
  /** The median price such jobs won at in the keeper's recent auction rounds (null: none yet). */
  clearing_median: bigint | null;
  /** How many recent awards `clearing_median` is drawn from. */
  cleared: number;
};

/** `body` as a QuoteView, or null when it is not one. */
export function parseQuoteView(body: unknown): QuoteView | null {
  if (
    !isObject(body) ||
    !isString(body.model_id) ||
    !isNumber(body.risk) ||
    !isNumber(body.lowest) ||
    !isNumber(body.median) ||
    !isNumber(body.highest) ||
    !isNumber(body.miners) ||
    !(body.clearing_median === undefined || body.clearing_median === null || isNumber(body.clearing_median)) ||
    !(body.cleared === undefined || isNumber(body.cleared))
  ) {
    return null;
  }
  return {
    model_id: body.model_id,
    risk: body.risk,
    lowest: BigInt(body.lowest),
    median: BigInt(body.median),
    highest: BigInt(body.highest),
    miners: body.miners,
    clearing_median: isNumber(body.clearing_median) ? BigInt(body.clearing_median) : null,
    cleared: isNumber(body.cleared) ? body.cleared : 0,
  };
}

/** `body` as a keeper error body, or null. */
export function parseKeeperErrorBody(body: unknown): KeeperErrorBody | null {
  return isObject(body) && isString(body.error) && isString(body.message)
    ? { error: body.error, message: body.message }
    : null;
}
