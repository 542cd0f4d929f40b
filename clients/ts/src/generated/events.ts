/**
 * The program's events: their union, decoding one from its bytes, and parsing them from a transaction's logs.
 *
 * Written by scripts/generate.mjs from idl/verdict.json; do not edit it,
 * regenerate it with `npm run generate`.
 */

import { getBase64Encoder, type ReadonlyUint8Array } from "@solana/kit";
import {
  getAuthorityAcceptedDecoder,
  type AuthorityAccepted,
  getAuthorityProposedDecoder,
  type AuthorityProposed,
  getBoostClaimedDecoder,
  type BoostClaimed,
  getCommitteeDrawAbortedDecoder,
  type CommitteeDrawAborted,
  getCommitteeDrawEnteredDecoder,
  type CommitteeDrawEntered,
  getCommitteeDrawRequestedDecoder,
  type CommitteeDrawRequested,
  getCommitteeDrawSeededDecoder,
  type CommitteeDrawSeeded,
  getCommitteeDrawSweptDecoder,
  type CommitteeDrawSwept,
  getCommitteeRotatedDecoder,
  type CommitteeRotated,
  getConfigInitializedDecoder,
  type ConfigInitialized,
  getConfigUpdatedDecoder,
  type ConfigUpdated,
  getDelegatedDecoder,
  type Delegated,
  getDisputeOpenedDecoder,
  type DisputeOpened,
  getDisputeResolvedDecoder,
  type DisputeResolved,
  getDisputeRewardClaimedDecoder,
  type DisputeRewardClaimed,
  getHeartbeatRecordedDecoder,
  type HeartbeatRecorded,
  getJobAssignedDecoder,
  type JobAssigned,
  getJobClosedDecoder,
  type JobClosed,
  getJobCompletedDecoder,
  type JobCompleted,
  getJobFailedDecoder,
  type JobFailed,
  getJobRefundedDecoder,
  type JobRefunded,
  getJobSubmittedDecoder,
  type JobSubmitted,
  getNodeClosedDecoder,
  type NodeClosed,
  getNodeCreditedDecoder,
  type NodeCredited,
  getNodeEndpointSetDecoder,
  type NodeEndpointSet,
  getNodeLiquidatedDecoder,
  type NodeLiquidated,
  getNodeRegisteredDecoder,
  type NodeRegistered,
  getNodeSlashedDecoder,
  type NodeSlashed,
  getNodeUpdatedDecoder,
  type NodeUpdated,
  getOwedWithdrawnDecoder,
  type OwedWithdrawn,
  getPausedSetDecoder,
  type PausedSet,
  getPayoutClaimedDecoder,
  type PayoutClaimed,
  getRefundClaimedDecoder,
  type RefundClaimed,
  getReputationChangedDecoder,
  type ReputationChanged,
  getRewardPoolFundedDecoder,
  type RewardPoolFunded,
  getRewardsCompoundedDecoder,
  type RewardsCompounded,
  getSigningKeyRotatedDecoder,
  type SigningKeyRotated,
  getSlashForgivenDecoder,
  type SlashForgiven,
  getStakedDecoder,
  type Staked,
  getTrialRecordedDecoder,
  type TrialRecorded,
  getUnbondingQueuedDecoder,
  type UnbondingQueued,
  getUnbondingWithdrawnDecoder,
  type UnbondingWithdrawn,
  getValidatorScoreChangedDecoder,
  type ValidatorScoreChanged,
  getVoteCommittedDecoder,
  type VoteCommitted,
  getVoteRevealedDecoder,
  type VoteRevealed,
} from "./types";

/** An event the program emitted, tagged with its IDL name. */
export type VerdictEvent =
  | { name: "AuthorityAccepted"; data: AuthorityAccepted }
  | { name: "AuthorityProposed"; data: AuthorityProposed }
  | { name: "BoostClaimed"; data: BoostClaimed }
  | { name: "CommitteeDrawAborted"; data: CommitteeDrawAborted }
  | { name: "CommitteeDrawEntered"; data: CommitteeDrawEntered }
  | { name: "CommitteeDrawRequested"; data: CommitteeDrawRequested }
  | { name: "CommitteeDrawSeeded"; data: CommitteeDrawSeeded }
  | { name: "CommitteeDrawSwept"; data: CommitteeDrawSwept }
  | { name: "CommitteeRotated"; data: CommitteeRotated }
  | { name: "ConfigInitialized"; data: ConfigInitialized }
  | { name: "ConfigUpdated"; data: ConfigUpdated }
  | { name: "Delegated"; data: Delegated }
  | { name: "DisputeOpened"; data: DisputeOpened }
  | { name: "DisputeResolved"; data: DisputeResolved }
  | { name: "DisputeRewardClaimed"; data: DisputeRewardClaimed }
  | { name: "HeartbeatRecorded"; data: HeartbeatRecorded }
  | { name: "JobAssigned"; data: JobAssigned }
  | { name: "JobClosed"; data: JobClosed }
  | { name: "JobCompleted"; data: JobCompleted }
  | { name: "JobFailed"; data: JobFailed }
  | { name: "JobRefunded"; data: JobRefunded }
  | { name: "JobSubmitted"; data: JobSubmitted }
  | { name: "NodeClosed"; data: NodeClosed }
  | { name: "NodeCredited"; data: NodeCredited }
  | { name: "NodeEndpointSet"; data: NodeEndpointSet }
  | { name: "NodeLiquidated"; data: NodeLiquidated }
  | { name: "NodeRegistered"; data: NodeRegistered }
  | { name: "NodeSlashed"; data: NodeSlashed }
  | { name: "NodeUpdated"; data: NodeUpdated }
  | { name: "OwedWithdrawn"; data: OwedWithdrawn }
  | { name: "PausedSet"; data: PausedSet }
  | { name: "PayoutClaimed"; data: PayoutClaimed }
  | { name: "RefundClaimed"; data: RefundClaimed }
  | { name: "ReputationChanged"; data: ReputationChanged }
  | { name: "RewardPoolFunded"; data: RewardPoolFunded }
  | { name: "RewardsCompounded"; data: RewardsCompounded }
  | { name: "SigningKeyRotated"; data: SigningKeyRotated }
  | { name: "SlashForgiven"; data: SlashForgiven }
  | { name: "Staked"; data: Staked }
  | { name: "TrialRecorded"; data: TrialRecorded }
  | { name: "UnbondingQueued"; data: UnbondingQueued }
  | { name: "UnbondingWithdrawn"; data: UnbondingWithdrawn }
  | { name: "ValidatorScoreChanged"; data: ValidatorScoreChanged }
  | { name: "VoteCommitted"; data: VoteCommitted }
  | { name: "VoteRevealed"; data: VoteRevealed };

export type VerdictEventName = VerdictEvent["name"];

/** Each event's 8-byte discriminator (the first bytes of its data), from the IDL. */
export const VERDICT_EVENT_DISCRIMINATORS: Readonly<Record<VerdictEventName, ReadonlyUint8Array>> = {
  AuthorityAccepted: new Uint8Array([166, 192, 219, 188, 41, 209, 195, 26]),
  AuthorityProposed: new Uint8Array([244, 117, 94, 112, 53, 151, 35, 89]),
  BoostClaimed: new Uint8Array([83, 14, 81, 21, 178, 187, 107, 169]),
  CommitteeDrawAborted: new Uint8Array([42, 137, 201, 66, 4, 11, 175, 203]),
  CommitteeDrawEntered: new Uint8Array([221, 155, 102, 91, 62, 239, 134, 75]),
  CommitteeDrawRequested: new Uint8Array([219, 63, 207, 5, 58, 59, 245, 35]),
  CommitteeDrawSeeded: new Uint8Array([106, 100, 197, 45, 45, 239, 221, 214]),
  CommitteeDrawSwept: new Uint8Array([195, 123, 218, 7, 119, 218, 1, 187]),
  CommitteeRotated: new Uint8Array([240, 171, 193, 164, 242, 159, 13, 173]),
  ConfigInitialized: new Uint8Array([181, 49, 200, 156, 19, 167, 178, 91]),
  ConfigUpdated: new Uint8Array([40, 241, 230, 122, 11, 19, 198, 194]),
  Delegated: new Uint8Array([52, 201, 7, 194, 24, 79, 100, 159]),
  DisputeOpened: new Uint8Array([239, 222, 102, 235, 193, 85, 1, 214]),
  DisputeResolved: new Uint8Array([121, 64, 249, 153, 139, 128, 236, 187]),
  DisputeRewardClaimed: new Uint8Array([226, 157, 174, 79, 96, 117, 23, 204]),
  HeartbeatRecorded: new Uint8Array([171, 129, 156, 232, 208, 84, 30, 86]),
  JobAssigned: new Uint8Array([37, 41, 120, 33, 26, 236, 76, 219]),
  JobClosed: new Uint8Array([123, 63, 243, 153, 174, 212, 2, 55]),
  JobCompleted: new Uint8Array([176, 207, 246, 115, 95, 179, 9, 132]),
  JobFailed: new Uint8Array([239, 142, 192, 215, 175, 72, 19, 44]),
  JobRefunded: new Uint8Array([156, 171, 111, 37, 17, 174, 8, 167]),
  JobSubmitted: new Uint8Array([129, 204, 35, 127, 38, 50, 131, 248]),
  NodeClosed: new Uint8Array([191, 85, 142, 188, 15, 189, 76, 109]),
  NodeCredited: new Uint8Array([85, 70, 71, 200, 74, 70, 117, 9]),
  NodeEndpointSet: new Uint8Array([80, 202, 177, 45, 247, 116, 108, 157]),
  NodeLiquidated: new Uint8Array([33, 151, 199, 1, 243, 104, 142, 145]),
  NodeRegistered: new Uint8Array([15, 57, 183, 59, 93, 55, 157, 195]),
  NodeSlashed: new Uint8Array([195, 114, 214, 16, 173, 73, 177, 87]),
  NodeUpdated: new Uint8Array([3, 8, 87, 251, 118, 64, 24, 70]),
  OwedWithdrawn: new Uint8Array([5, 182, 86, 222, 137, 212, 104, 229]),
  PausedSet: new Uint8Array([171, 125, 127, 156, 233, 81, 68, 66]),
  PayoutClaimed: new Uint8Array([200, 39, 105, 112, 116, 63, 58, 149]),
  RefundClaimed: new Uint8Array([136, 64, 242, 99, 4, 244, 208, 130]),
  ReputationChanged: new Uint8Array([190, 190, 93, 65, 6, 39, 92, 250]),
  RewardPoolFunded: new Uint8Array([86, 253, 182, 175, 22, 199, 5, 198]),
  RewardsCompounded: new Uint8Array([145, 86, 94, 94, 103, 143, 189, 95]),
  SigningKeyRotated: new Uint8Array([72, 178, 61, 219, 217, 128, 135, 13]),
  SlashForgiven: new Uint8Array([247, 203, 178, 218, 6, 179, 205, 31]),
  Staked: new Uint8Array([11, 146, 45, 205, 230, 58, 213, 240]),
  TrialRecorded: new Uint8Array([103, 239, 226, 174, 208, 103, 2, 152]),
  UnbondingQueued: new Uint8Array([79, 2, 183, 68, 176, 11, 73, 152]),
  UnbondingWithdrawn: new Uint8Array([167, 10, 207, 176, 233, 147, 233, 47]),
  ValidatorScoreChanged: new Uint8Array([40, 50, 184, 125, 248, 71, 215, 28]),
  VoteCommitted: new Uint8Array([74, 67, 158, 48, 168, 230, 217, 77]),
  VoteRevealed: new Uint8Array([104, 162, 140, 194, 213, 217, 117, 179]),
};

/**
 * Decodes one event's bytes (discriminator then Borsh data, as `emit!`
 * logs them). Null when the discriminator is no Verdict event or the data
 * does not decode.
 */
export function decodeVerdictEvent(bytes: ReadonlyUint8Array): VerdictEvent | null {
  if (bytes.length < 8) {
    return null;
  }
  let key = "";
  for (let i = 0; i < 8; i++) {
    key += bytes[i].toString(16).padStart(2, "0");
  }
  try {
    switch (key) {
      case "a6c0dbbc29d1c31a":
        return { name: "AuthorityAccepted", data: getAuthorityAcceptedDecoder().decode(bytes) };
      case "f4755e7035972359":
        return { name: "AuthorityProposed", data: getAuthorityProposedDecoder().decode(bytes) };
      case "530e5115b2bb6ba9":
        return { name: "BoostClaimed", data: getBoostClaimedDecoder().decode(bytes) };
      case "2a89c942040bafcb":
        return { name: "CommitteeDrawAborted", data: getCommitteeDrawAbortedDecoder().decode(bytes) };
      case "dd9b665b3eef864b":
        return { name: "CommitteeDrawEntered", data: getCommitteeDrawEnteredDecoder().decode(bytes) };
      case "db3fcf053a3bf523":
        return { name: "CommitteeDrawRequested", data: getCommitteeDrawRequestedDecoder().decode(bytes) };
      case "6a64c52d2defddd6":
        return { name: "CommitteeDrawSeeded", data: getCommitteeDrawSeededDecoder().decode(bytes) };
      case "c37bda0777da01bb":
        return { name: "CommitteeDrawSwept", data: getCommitteeDrawSweptDecoder().decode(bytes) };
      case "f0abc1a4f29f0dad":
        return { name: "CommitteeRotated", data: getCommitteeRotatedDecoder().decode(bytes) };
      case "b531c89c13a7b25b":
        return { name: "ConfigInitialized", data: getConfigInitializedDecoder().decode(bytes) };
      case "28f1e67a0b13c6c2":
        return { name: "ConfigUpdated", data: getConfigUpdatedDecoder().decode(bytes) };
      case "34c907c2184f649f":
        return { name: "Delegated", data: getDelegatedDecoder().decode(bytes) };
      case "efde66ebc15501d6":
        return { name: "DisputeOpened", data: getDisputeOpenedDecoder().decode(bytes) };
      case "7940f9998b80ecbb":
        return { name: "DisputeResolved", data: getDisputeResolvedDecoder().decode(bytes) };
      case "e29dae4f607517cc":
        return { name: "DisputeRewardClaimed", data: getDisputeRewardClaimedDecoder().decode(bytes) };
      case "ab819ce8d0541e56":
        return { name: "HeartbeatRecorded", data: getHeartbeatRecordedDecoder().decode(bytes) };
      case "252978211aec4cdb":
        return { name: "JobAssigned", data: getJobAssignedDecoder().decode(bytes) };
      case "7b3ff399aed40237":
        return { name: "JobClosed", data: getJobClosedDecoder().decode(bytes) };
      case "b0cff6735fb30984":
        return { name: "JobCompleted", data: getJobCompletedDecoder().decode(bytes) };
      case "ef8ec0d7af48132c":
        return { name: "JobFailed", data: getJobFailedDecoder().decode(bytes) };
      case "9cab6f2511ae08a7":
        return { name: "JobRefunded", data: getJobRefundedDecoder().decode(bytes) };
      case "81cc237f263283f8":
        return { name: "JobSubmitted", data: getJobSubmittedDecoder().decode(bytes) };
      case "bf558ebc0fbd4c6d":
        return { name: "NodeClosed", data: getNodeClosedDecoder().decode(bytes) };
      case "554647c84a467509":
        return { name: "NodeCredited", data: getNodeCreditedDecoder().decode(bytes) };
      case "50cab12df7746c9d":
        return { name: "NodeEndpointSet", data: getNodeEndpointSetDecoder().decode(bytes) };
      case "2197c701f3688e91":
        return { name: "NodeLiquidated", data: getNodeLiquidatedDecoder().decode(bytes) };
      case "0f39b73b5d379dc3":
        return { name: "NodeRegistered", data: getNodeRegisteredDecoder().decode(bytes) };
      case "c372d610ad49b157":
        return { name: "NodeSlashed", data: getNodeSlashedDecoder().decode(bytes) };
      case "030857fb76401846":
        return { name: "NodeUpdated", data: getNodeUpdatedDecoder().decode(bytes) };
      case "05b656de89d468e5":
        return { name: "OwedWithdrawn", data: getOwedWithdrawnDecoder().decode(bytes) };
      case "ab7d7f9ce9514442":
        return { name: "PausedSet", data: getPausedSetDecoder().decode(bytes) };
      case "c8276970743f3a95":
        return { name: "PayoutClaimed", data: getPayoutClaimedDecoder().decode(bytes) };
      case "8840f26304f4d082":
        return { name: "RefundClaimed", data: getRefundClaimedDecoder().decode(bytes) };
      case "bebe5d4106275cfa":
        return { name: "ReputationChanged", data: getReputationChangedDecoder().decode(bytes) };
      case "56fdb6af16c705c6":
        return { name: "RewardPoolFunded", data: getRewardPoolFundedDecoder().decode(bytes) };
      case "91565e5e678fbd5f":
        return { name: "RewardsCompounded", data: getRewardsCompoundedDecoder().decode(bytes) };
      case "48b23ddbd980870d":
        return { name: "SigningKeyRotated", data: getSigningKeyRotatedDecoder().decode(bytes) };
      case "f7cbb2da06b3cd1f":
        return { name: "SlashForgiven", data: getSlashForgivenDecoder().decode(bytes) };
      case "0b922dcde63ad5f0":
        return { name: "Staked", data: getStakedDecoder().decode(bytes) };
      case "67efe2aed0670298":
        return { name: "TrialRecorded", data: getTrialRecordedDecoder().decode(bytes) };
      case "4f02b744b00b4998":
        return { name: "UnbondingQueued", data: getUnbondingQueuedDecoder().decode(bytes) };
      case "a70acfb0e993e92f":
        return { name: "UnbondingWithdrawn", data: getUnbondingWithdrawnDecoder().decode(bytes) };
      case "2832b87df847d71c":
        return { name: "ValidatorScoreChanged", data: getValidatorScoreChangedDecoder().decode(bytes) };
      case "4a439e30a8e6d94d":
        return { name: "VoteCommitted", data: getVoteCommittedDecoder().decode(bytes) };
      case "68a28cc2d5d975b3":
        return { name: "VoteRevealed", data: getVoteRevealedDecoder().decode(bytes) };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/**
 * The events in a transaction's log messages: lines `Program data: <base64>`
 * (and `Program log: Program data: <base64>`, as the natively run program
 * logs them), in order; other lines and undecodable data are skipped.
 */
export function parseVerdictEvents(logs: readonly string[]): VerdictEvent[] {
  const base64 = getBase64Encoder();
  const events: VerdictEvent[] = [];
  for (const line of logs) {
    const prefix = ["Program data: ", "Program log: Program data: "].find((p) =>
      line.startsWith(p),
    );
    if (prefix === undefined) {
      continue;
    }
    const [payload] = line.slice(prefix.length).trim().split(/\s+/);
    let bytes: ReadonlyUint8Array;
    try {
      bytes = base64.encode(payload);
    } catch {
      continue;
    }
    const event = decodeVerdictEvent(bytes);
    if (event !== null) {
      events.push(event);
    }
  }
  return events;
}
