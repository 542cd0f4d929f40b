// Read-only views of the chain: a miner Node's reputation in readable form,
// and a job's history as the events of its transactions.
import {
  type Address,
  type GetAccountInfoApi,
  type GetSignaturesForAddressApi,
  type GetTransactionApi,
  type Rpc,
  type Signature,
} from '@solana/kit';
import {
  fetchConfig,
  fetchNode,
  findConfigPda,
  parseVerdictEvents,
  type ProtocolParams,
  type Reputation,
  type VerdictEvent,
} from './generated';
import { getTransactionLogs } from './transactions';

/**
 * The program's `NodeStatus` (programs/verdict/src/state/node.rs). The Node
 * stores it as one byte, so the IDL carries a number, not this enum.
 */
export enum NodeStatus {
  Active,
  Liquidated,
}

/** The program's `TrialStatus` (state/reputation.rs), stored as one byte like `NodeStatus`. */
export enum TrialStatus {
  Pending,
  Passed,
  Failed,
}

/** The program's `TIER_MIN_JOBS` (programs/verdict/src/constants.rs): jobs in the window before a tier above 3. */
export const TIER_MIN_JOBS = 20;
const ONE_BPS = 10_000;

/** A reputation window's figures, computed like the program's `Reputation::window`. */
export type ReputationWindow = {
  jobs: number;
  successBps: number;
  slaBps: number;
  latencyBps: number;
  /** 0.5·success + 0.3·SLA + 0.2·latency with the Config's weights, in bps. */
  compositeBps: number;
  avgResponseMs: number;
};

export type NodeReputation = {
  node: Address;
  operator: Address;
  signingKey: Address;
  status: NodeStatus;
  /** `Active` or `Liquidated`. */
  statusName: string;
  /** Trust R in [0, 1] as last written on chain (heartbeat decay is applied lazily by the program). */
  trust: number;
  trustBps: number;
  /** 1 (composite at or above the Tier 1 threshold), 2, or 3 (new, recovering or unreliable: low-risk jobs only). */
  tier: 1 | 2 | 3;
  window: ReputationWindow;
  trial: TrialStatus;
  /** `Pending`, `Passed` or `Failed`. */
  trialName: string;
  cooldownUntil: bigint;
  lastHeartbeat: bigint;
  lifetimeJobs: bigint;
  lifetimeFailures: bigint;
  /** Validator score, 0..=100. */
  validatorScore: number;
  selfStake: bigint;
  /** The reputation fields as stored. */
  raw: Reputation;
};

/** The window figures of a reputation (the program's `Reputation::window`). */
export function reputationWindow(reputation: Reputation, params: ProtocolParams): ReputationWindow {
  let jobs = 0;
  let ok = 0;
  let sla = 0;
  let latency = 0;
  let ms = 0;
  for (const b of reputation.buckets) {
    jobs += b.jobs;
    ok += b.successes;
    sla += b.slaMet;
    latency += b.latencyScoreSum;
    ms += b.responseMsSum;
  }
  if (jobs === 0) {
    return { jobs: 0, successBps: 0, slaBps: 0, latencyBps: 0, compositeBps: 0, avgResponseMs: 0 };
  }
  const bps = (n: number) => Math.floor((n * ONE_BPS) / jobs);
  const successBps = bps(ok);
  const slaBps = bps(sla);
  const latencyBps = Math.floor(latency / jobs);
  const compositeBps = Math.floor(
    (successBps * params.weightSuccessBps + slaBps * params.weightSlaBps + latencyBps * params.weightLatencyBps) /
      ONE_BPS,
  );
  return { jobs, successBps, slaBps, latencyBps, compositeBps, avgResponseMs: ok === 0 ? 0 : Math.floor(ms / ok) };
}

/** The tier of a reputation (the program's `Reputation::tier`). */
export function reputationTier(reputation: Reputation, params: ProtocolParams): 1 | 2 | 3 {
  const w = reputationWindow(reputation, params);
  if (reputation.trial !== TrialStatus.Passed || w.jobs < TIER_MIN_JOBS || w.successBps < params.tieredMinSuccessBps) {
    return 3;
  }
  return w.compositeBps >= params.tier1MinBps ? 1 : 2;
}

/** A miner Node's reputation: trust, tier and window figures (with the Config's params), trial and lifetime counts. */
export async function getNodeReputation(rpc: Rpc<GetAccountInfoApi>, node: Address): Promise<NodeReputation> {
  const [configAddress] = await findConfigPda();
  const [account, config] = await Promise.all([fetchNode(rpc, node), fetchConfig(rpc, configAddress)]);
  const { data } = account;
  const params = config.data.params;
  const reputation = data.reputation;
  return {
    node,
    operator: data.operator,
    signingKey: data.signingKey,
    status: data.status,
    statusName: NodeStatus[data.status],
    trust: reputation.trustBps / ONE_BPS,
    trustBps: reputation.trustBps,
    tier: reputationTier(reputation, params),
    window: reputationWindow(reputation, params),
    trial: reputation.trial,
    trialName: TrialStatus[reputation.trial],
    cooldownUntil: reputation.cooldownUntil,
    lastHeartbeat: reputation.lastHeartbeat,
    lifetimeJobs: reputation.lifetimeJobs,
    lifetimeFailures: reputation.lifetimeFailures,
    validatorScore: data.validatorScore,
    selfStake: data.selfStake,
    raw: reputation,
  };
}

/** One transaction that touched a job, with the events it emitted. */
export type JobHistoryEntry = {
  signature: Signature;
  slot: bigint;
  /** Whether the transaction failed (its events, if any, did not happen). */
  failed: boolean;
  events: VerdictEvent[];
};

/**
 * Every transaction that mentions `job` (getSignaturesForAddress, all
 * pages), oldest first, each with the Verdict events in its logs.
 */
export async function getJobHistory(
  rpc: Rpc<GetSignaturesForAddressApi & GetTransactionApi>,
  job: Address,
): Promise<JobHistoryEntry[]> {
  const newestFirst: { signature: Signature; slot: bigint; failed: boolean }[] = [];
  let before: Signature | undefined;
  for (;;) {
    const page = await rpc
      .getSignaturesForAddress(job, { commitment: 'confirmed', limit: 1000, ...(before ? { before } : {}) })
      .send();
    for (const s of page) {
      newestFirst.push({ signature: s.signature, slot: s.slot, failed: s.err !== null });
    }
    if (page.length < 1000) {
      break;
    }
    before = page[page.length - 1].signature;
  }
  const history: JobHistoryEntry[] = [];
  for (const entry of newestFirst.reverse()) {
    const tx = await getTransactionLogs(rpc, entry.signature);
    history.push({ ...entry, events: parseVerdictEvents(tx?.logs ?? []) });
  }
  return history;
}
