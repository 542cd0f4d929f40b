// A client's jobs end to end: submit one on chain, hand its input to a
// keeper, wait for the result and verify it (infer does all three).
import { randomInt } from 'node:crypto';
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getUtf8Encoder,
  type Address,
  type GetAccountInfoApi,
  type Rpc,
  type Signature,
  type TransactionSigner,
} from '@solana/kit';
import { sleep, u64le } from './bytes';
import { JobClosedError, JobFailedError, JobOutcomeError, KeeperError, VerdictTimeoutError, VerificationError } from './errors';
import {
  JobStatus,
  VERDICT_PROGRAM_ADDRESS,
  fetchConfig,
  fetchMaybeJob,
  fetchMaybeNode,
  findConfigPda,
  getSubmitJobInstructionAsync,
  type Job,
  type RiskLevel,
} from './generated';
import { KeeperClient } from './keeper';
import type { JobView } from './keeperTypes';
import { sendAndConfirm, type SendAndConfirmOptions, type SendRpc } from './transactions';
import { isGenerativeModel, parseGenerationInput } from './generation';
import { inputHash, modelIdBytes, verifyResult, type VerifiedResult } from './verify';

/** The RPC methods the job functions use (a kit `createSolanaRpc` client has them all). */
export type VerdictRpc = SendRpc & Rpc<GetAccountInfoApi>;

/** Keeper base URLs, or a KeeperClient over them. */
export type Keepers = KeeperClient | string | readonly string[];

export type SubmitJobParams = {
  /** The client's token account of the stake mint that escrows the fee (and takes refunds). */
  tokenAccount: Address;
  /** Model name, at most 32 bytes of UTF-8. */
  model: string;
  /**
   * The input; only its sha256 goes on chain. For a generative model
   * (e.g. SMOLLM2_ID), the request built by `generationInput({prompt, …})`.
   */
  input: string;
  risk: RiskLevel;
  /** Most the client pays, in the stake mint's base units. */
  maxFee: bigint;
  /** Job id (one Job account per client and id); default: from the clock, unique per client. */
  jobId?: bigint;
  /** Options of the submit transaction. */
  send?: SendAndConfirmOptions;
};

export type SubmittedJob = {
  /** The Job account. */
  job: Address;
  jobId: bigint;
  /** The submit_job transaction's signature. */
  signature: Signature;
};

let lastJobId = 0n;

/**
 * A job id from the clock: milliseconds since the epoch shifted left 20
 * bits plus 20 random bits (two processes of one client submitting in the
 * same millisecond collide with odds of 1 in a million), strictly
 * increasing within this process.
 */
export function nextJobId(): bigint {
  const fromClock = (BigInt(Date.now()) << 20n) | BigInt(randomInt(1 << 20));
  lastJobId = fromClock > lastJobId ? fromClock : lastJobId + 1n;
  return lastJobId;
}

/** The Job account of `client`'s job `jobId`: PDA of `["job", client, jobId as u64 LE]`. */
export async function findJobAddress(client: Address, jobId: bigint): Promise<Address> {
  const [job] = await getProgramDerivedAddress({
    programAddress: VERDICT_PROGRAM_ADDRESS,
    seeds: [getUtf8Encoder().encode('job'), getAddressEncoder().encode(client), u64le(jobId)],
  });
  return job;
}

/**
 * Submits a job on chain (`submit_job`): escrows up to `maxFee` of the
 * stake mint (read from the Config) from `tokenAccount`, commits to
 * sha256(input) and the model. Throws a VerdictProgramError when the
 * program refuses it (e.g. `FeeBelowMinimum`), and a GenerationInputError,
 * before anything is sent, when a generative model's input is not a valid
 * generation request.
 */
export async function submitJob(
  rpc: VerdictRpc,
  client: TransactionSigner,
  params: SubmitJobParams,
): Promise<SubmittedJob> {
  if (isGenerativeModel(params.model)) {
    parseGenerationInput(params.input);
  }
  const [configAddress] = await findConfigPda();
  const config = await fetchConfig(rpc, configAddress);
  const jobId = params.jobId ?? nextJobId();
  const job = await findJobAddress(client.address, jobId);
  const instruction = await getSubmitJobInstructionAsync({
    client,
    job,
    stakeMint: config.data.stakeMint,
    clientTokens: params.tokenAccount,
    jobId,
    model: modelIdBytes(params.model),
    inputHash: inputHash(params.input),
    risk: params.risk,
    maxFee: params.maxFee,
  });
  const signature = await sendAndConfirm(rpc, [instruction], client, params.send);
  return { job, jobId, signature };
}

export type AwaitResultOptions = {
  /** The job's input (checked against its on-chain hash, and handed over again if no keeper has it). */
  input: string;
  /** Give up after this long (default 120 000 ms). */
  timeoutMs?: number;
  /** Interval between polls of the keeper and of the chain (default 500 ms). */
  pollMs?: number;
  /** Passed on when the input has to be handed to a keeper again (default false). */
  realtime?: boolean;
};

function toKeeperClient(keepers: Keepers): KeeperClient {
  return keepers instanceof KeeperClient ? keepers : new KeeperClient(keepers);
}

const UNSOLVED_END: readonly JobStatus[] = [JobStatus.Refunded, JobStatus.Expired, JobStatus.Invalid];

/**
 * Waits for a job's result and returns it verified. Polls the keeper(s)
 * until the job is done (a failed job throws JobFailedError; a job no
 * reachable keeper has is handed over again), then the Job account until
 * it is Solved or Paid (Refunded, Expired or Invalid throw JobOutcomeError;
 * an account already closed, JobClosedError),
 * then checks everything (see verifyResult: a VerificationError, never a
 * result, when anything does not match). VerdictTimeoutError after
 * `timeoutMs`.
 */
export async function awaitResult(
  rpc: Rpc<GetAccountInfoApi>,
  keepers: Keepers,
  job: Address,
  options: AwaitResultOptions,
): Promise<VerifiedResult> {
  const keeperClient = toKeeperClient(keepers);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  const timedOut = (what: string) => new VerdictTimeoutError(`job ${job}: ${what} after ${timeoutMs} ms`);

  let view: JobView | undefined;
  let lastProblem = 'no answer';
  while (view === undefined) {
    try {
      const current = await keeperClient.jobStatus(job);
      if (current.status === 'done') {
        view = current;
        break;
      }
      if (current.status === 'failed') {
        throw new JobFailedError(
          job,
          current.error?.code ?? 'failed',
          current.error?.message ?? 'the keeper reports the job failed',
          current,
        );
      }
      lastProblem = `the keeper reports it ${current.status}`;
    } catch (e) {
      if (!(e instanceof KeeperError) || (e.code !== 'unknown_job' && e.code !== 'unreachable')) {
        throw e;
      }
      lastProblem = e.message;
      if (e.code === 'unknown_job') {
        // The keeper that had the input is gone (or never had it): hand it
        // over again; a keeper that has it just reports its progress.
        await keeperClient.submitInput(job, options.input, options.realtime ?? false);
      }
    }
    if (Date.now() >= deadline) {
      throw timedOut(`not done at the keepers (${lastProblem})`);
    }
    await sleep(pollMs);
  }

  let jobAccount: Job;
  for (;;) {
    const account = await fetchMaybeJob(rpc, job);
    if (!account.exists) {
      throw new JobClosedError(job);
    }
    const { status } = account.data;
    if (status === JobStatus.Solved || status === JobStatus.Paid) {
      jobAccount = account.data;
      break;
    }
    if (UNSOLVED_END.includes(status)) {
      throw new JobOutcomeError(job, status);
    }
    if (Date.now() >= deadline) {
      throw timedOut(`done at the keeper but ${JobStatus[status]} on chain`);
    }
    await sleep(pollMs);
  }

  const node = await fetchMaybeNode(rpc, jobAccount.miner);
  if (!node.exists) {
    throw new VerificationError(job, 'unknown_miner', `no Node account at the job's miner ${jobAccount.miner}`);
  }
  return verifyResult({ job, input: options.input, view, jobAccount, minerNode: node.data });
}

export type InferParams = SubmitJobParams & {
  /** Give up waiting for the result after this long (default 120 000 ms). */
  timeoutMs?: number;
  /** Ask the keeper for a real-time miner (default false). */
  realtime?: boolean;
};

/** A verified result with the job's id and its submit transaction. */
export type InferResult = VerifiedResult & {
  jobId: bigint;
  /** The submit_job transaction's signature. */
  signature: Signature;
};

/**
 * A maximum fee the market takes: the highest standing price of the
 * miners that may take such a job (so any of them may win it; the job pays
 * only its winning bid and the rest of the escrow comes back), at least
 * the Config's minimum job fee. Without a quote (no miner that may take
 * it prices it: they take the list price), the minimum.
 */
export async function suggestMaxFee(
  rpc: Rpc<GetAccountInfoApi>,
  keepers: Keepers,
  model: string,
  risk: RiskLevel,
): Promise<bigint> {
  const minimum = (await fetchConfig(rpc, (await findConfigPda())[0])).data.params.minJobFee;
  const riskName = (['low', 'medium', 'high'] as const)[risk];
  try {
    const quote = await toKeeperClient(keepers).quote(model, riskName);
    return quote.highest > minimum ? quote.highest : minimum;
  } catch (e) {
    if (e instanceof KeeperError && e.code === 'no_quote') {
      return minimum;
    }
    throw e;
  }
}

/**
 * One inference end to end: submits the job on chain, posts its input to
 * the keepers (failing over across them), waits for the result and
 * returns it verified against the chain. When a step after the submit
 * fails, the job stays on chain (its escrow refundable once it expires)
 * and the step's error is thrown.
 */
export async function infer(
  rpc: VerdictRpc,
  client: TransactionSigner,
  keepers: Keepers,
  params: InferParams,
): Promise<InferResult> {
  const keeperClient = toKeeperClient(keepers);
  const submitted = await submitJob(rpc, client, params);
  await keeperClient.submitInput(submitted.job, params.input, params.realtime ?? false);
  const result = await awaitResult(rpc, keeperClient, submitted.job, {
    input: params.input,
    timeoutMs: params.timeoutMs,
    realtime: params.realtime,
  });
  return { ...result, jobId: submitted.jobId, signature: submitted.signature };
}
