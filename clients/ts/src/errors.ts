// The errors the hand-written client throws: program refusals with their IDL
// name, keeper refusals, failed jobs, and results that do not verify.
import {
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  getSolanaErrorFromTransactionError,
  isSolanaError,
  type Address,
  type Signature,
} from '@solana/kit';
import { JobStatus, VERDICT_PROGRAM_ADDRESS, VERDICT_PROGRAM_ERRORS } from './generated';
import type { JobView } from './keeperTypes';

/**
 * The Verdict program refused a transaction (an error from its IDL, or one
 * of Anchor's own, e.g. a failed account constraint). `name` is the IDL
 * error name (`FeeBelowMinimum`), `message` its IDL message.
 */
export class VerdictProgramError extends Error {
  /** The custom error code (6000 and up for the program's own errors). */
  readonly code: number;
  /** Index of the refused instruction in the transaction. */
  readonly instructionIndex: number;
  /** The program logs, when the RPC node returned them. */
  readonly logs: readonly string[] | undefined;
  /** The transaction's signature, when it landed (failed) on chain. */
  readonly signature: Signature | undefined;

  constructor(args: {
    code: number;
    name: string;
    message: string;
    instructionIndex: number;
    logs?: readonly string[];
    signature?: Signature;
    cause?: unknown;
  }) {
    super(args.message, args.cause === undefined ? undefined : { cause: args.cause });
    this.name = args.name;
    this.code = args.code;
    this.instructionIndex = args.instructionIndex;
    this.logs = args.logs;
    this.signature = args.signature;
  }
}

/** A transaction that landed with an error that is not the Verdict program's. */
export class TransactionFailedError extends Error {
  readonly signature: Signature;
  readonly logs: readonly string[] | undefined;

  constructor(signature: Signature, message: string, logs?: readonly string[], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransactionFailedError';
    this.signature = signature;
    this.logs = logs;
  }
}

/** Something did not happen before its deadline (confirmation, a result). */
export class VerdictTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerdictTimeoutError';
  }
}

/**
 * A keeper refused a request (a 4xx with `{"error": code, "message": ...}`),
 * or no keeper could be reached (`status` 0, `code` "unreachable").
 */
export class KeeperError extends Error {
  /** The keeper that answered (the last one tried when none could be reached). */
  readonly url: string;
  /** The HTTP status; 0 when no keeper answered. */
  readonly status: number;
  /** The keeper's machine-readable code, e.g. `unknown_job`, `input_hash_mismatch`. */
  readonly code: string;

  constructor(url: string, status: number, code: string, message: string) {
    super(message);
    this.name = 'KeeperError';
    this.url = url;
    this.status = status;
    this.code = code;
  }
}

/** The keeper reports the job failed (no miner produced an output). */
export class JobFailedError extends Error {
  readonly job: Address;
  /** The keeper's failure code, e.g. `all_miners_failed`. */
  readonly code: string;
  readonly view: JobView;

  constructor(job: Address, code: string, message: string, view: JobView) {
    super(message);
    this.name = 'JobFailedError';
    this.job = job;
    this.code = code;
    this.view = view;
  }
}

/** The on-chain Job ended without a result (refunded, expired or invalid). */
export class JobOutcomeError extends Error {
  readonly job: Address;
  readonly status: JobStatus;
  /** `Refunded`, `Expired` or `Invalid` (the JobStatus name). */
  readonly statusName: string;

  constructor(job: Address, status: JobStatus) {
    const statusName = JobStatus[status] ?? String(status);
    super(`job ${job} is ${statusName} on chain: there is no result to read`);
    this.name = 'JobOutcomeError';
    this.job = job;
    this.status = status;
    this.statusName = statusName;
  }
}

/**
 * The keepers have the job done but its Job account is gone: it was paid and
 * closed before the result was collected, so no output hash is left on chain
 * to check an answer against.
 */
export class JobClosedError extends Error {
  readonly job: Address;

  constructor(job: Address) {
    super(`job ${job} is closed on chain: its result can no longer be verified`);
    this.name = 'JobClosedError';
    this.job = job;
  }
}

/** Why a result was refused. */
export type VerificationReason =
  /** The keeper's view is for another job. */
  | 'job_mismatch'
  /** sha256(input) is not the job's input hash. */
  | 'input_hash_mismatch'
  /** The Job account is not Solved or Paid: the chain attests no output. */
  | 'job_not_solved'
  /** The keeper's view has no output, output hash or receipt. */
  | 'missing_output'
  /** dtype, scale, shape, data and text do not describe a tensor. */
  | 'malformed_output'
  /** The output is not the kind the job's (known) model produces: values for a generative model, token ids past its vocabulary, or tokens from an embedding model. */
  | 'wrong_output_kind'
  /** The output's tensor hash is not the job's on-chain output hash. */
  | 'output_hash_mismatch'
  /** The keeper's output_hash is not the job's on-chain output hash. */
  | 'keeper_hash_mismatch'
  /** The keeper names another miner than the job's. */
  | 'miner_mismatch'
  /** The receipt's input hash is not the job's. */
  | 'receipt_input_mismatch'
  /** The receipt's model is not the job's. */
  | 'receipt_model_mismatch'
  /** No Node account at the job's miner. */
  | 'unknown_miner'
  /** The receipt's key is not the miner Node's signing key. */
  | 'signing_key_mismatch'
  /** The receipt's key is not an ed25519 public key. */
  | 'invalid_public_key'
  /** The miner's signature does not verify. */
  | 'bad_signature';

/** A result that does not check out against the chain: never returned. */
export class VerificationError extends Error {
  readonly reason: VerificationReason;
  readonly job: Address;

  constructor(job: Address, reason: VerificationReason, message: string) {
    super(`job ${job}: ${message}`);
    this.name = 'VerificationError';
    this.job = job;
    this.reason = reason;
  }
}

/** Anchor logs its errors as `AnchorError ... Error Code: X. Error Number: N. Error Message: M.` */
const ANCHOR_ERROR_LOG = /Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*?)\.?$/;

/**
 * Name and message of a Verdict custom error code: from the IDL, else (an
 * Anchor framework error such as a failed constraint) from Anchor's log
 * line; null when neither knows it.
 */
export function describeProgramError(
  code: number,
  logs?: readonly string[],
): { name: string; message: string } | null {
  const known = VERDICT_PROGRAM_ERRORS[code];
  if (known !== undefined) {
    return { name: known.name, message: known.message };
  }
  for (const line of logs ?? []) {
    const m = ANCHOR_ERROR_LOG.exec(line);
    if (m !== null && Number(m[2]) === code) {
      return { name: m[1], message: m[3] };
    }
  }
  return null;
}

/**
 * The VerdictProgramError a failed transaction stands for, or null when the
 * failure is not a custom error of a Verdict instruction. `error` is a
 * SolanaError (a preflight failure, or one built from a landed transaction's
 * `err`); `programs` are the transaction's instructions' program addresses.
 * A code below 6000 that is no Anchor error in the logs is taken for a
 * program the instruction invoked (e.g. SPL Token's), not Verdict's.
 */
export function verdictProgramErrorFrom(
  error: unknown,
  programs: readonly Address[],
  extra: { logs?: readonly string[]; signature?: Signature } = {},
): VerdictProgramError | null {
  let logs = extra.logs;
  let cause = error;
  if (isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) {
    logs = logs ?? error.context.logs ?? undefined;
    cause = error.cause;
  }
  if (!isSolanaError(cause, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
    return null;
  }
  const { code, index } = cause.context;
  if (programs[index] !== VERDICT_PROGRAM_ADDRESS) {
    return null;
  }
  const described =
    describeProgramError(code, logs) ??
    (code >= 6000 ? { name: 'UnknownProgramError', message: `custom program error ${code}` } : null);
  if (described === null) {
    return null;
  }
  const { name, message } = described;
  return new VerdictProgramError({
    code,
    name,
    message,
    instructionIndex: index,
    logs,
    signature: extra.signature,
    cause: error,
  });
}

/** A landed transaction's `err` (as getSignatureStatuses returns it) as a SolanaError. */
export function solanaErrorFromTransactionErr(err: unknown): Error {
  if (typeof err === 'string') {
    return getSolanaErrorFromTransactionError(err);
  }
  if (typeof err === 'object' && err !== null) {
    // Kit's RPC turns the numbers in it into bigints; the converter wants plain values.
    const plain: unknown = JSON.parse(
      JSON.stringify(err, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)),
    );
    return getSolanaErrorFromTransactionError(plain as { [key: string]: unknown });
  }
  return new Error(`transaction error ${String(err)}`);
}
