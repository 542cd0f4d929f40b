/**
 * The program's errors by code: their IDL name and message.
 *
 * Written by scripts/generate.mjs from idl/verdict.json; do not edit it,
 * regenerate it with `npm run generate`.
 */

/** The name of an error the IDL lists. */
export type VerdictErrorName =
  | "MathOverflow"
  | "InvalidParameter"
  | "UnbondingTooShort"
  | "Paused"
  | "Unauthorized"
  | "NoPendingAuthority"
  | "WrongMint"
  | "NotUpgradeAuthority"
  | "InvalidRoles"
  | "TooManyModels"
  | "InvalidModelId"
  | "CommissionTooHigh"
  | "ZeroAmount"
  | "InsufficientFunds"
  | "StakeBelowMinimum"
  | "UnstakeExceedsStake"
  | "UndelegateExceedsOwned"
  | "UnbondingNotReleased"
  | "WrongTicketKind"
  | "NodeNotEmpty"
  | "NodeNotActive"
  | "DelegationPoolInsolvent"
  | "AmountTooSmall"
  | "InvalidSigningKey"
  | "WrongVault"
  | "WrongNode"
  | "WrongTokenOwner"
  | "WrongSysvar"
  | "MissingAttestation"
  | "QuorumNotReached"
  | "MalformedAttestation"
  | "AttestationOutsideInstruction"
  | "AttestationMismatch"
  | "NotCommitteeMember"
  | "DuplicateSigner"
  | "RotationNotDue"
  | "NotEnoughValidators"
  | "FeeBelowMinimum"
  | "InvalidJobState"
  | "MinerNotEligible"
  | "PriceAboveMaxFee"
  | "WrongMiner"
  | "WrongDestination"
  | "NotExpired"
  | "PayoutNotReleased"
  | "SettleLowRiskOnly"
  | "UnsuccessfulCompletion"
  | "JobNotFinished"
  | "WrongSigners"
  | "TrialNotDue"
  | "NotAMember"
  | "WrongRole"
  | "DisputeOpen"
  | "SlashNotAuthorized"
  | "SlashCapReached"
  | "NothingToSlash"
  | "NotChallengeable"
  | "ChallengerNotActive"
  | "NotEligibleVoter"
  | "NotCommitPhase"
  | "NotRevealPhase"
  | "RevealMismatch"
  | "AlreadyRevealed"
  | "VoteNotOver"
  | "InvalidDisputeState"
  | "NotLiquidatable"
  | "LiquidationsPending"
  | "NoRewardDue"
  | "ExposureLimit"
  | "SlashNeedsEvidence"
  | "TimeoutReportLimit"
  | "JobNotInCommittee"
  | "PartyCannotVote"
  | "SameResult"
  | "NothingOwed"
  | "NodeBusy"
  | "CpiNotAllowed"
  | "VoteNotSettled"
  | "DrawNotReady"
  | "DrawPending"
  | "WrongDrawPhase"
  | "AlreadyEntered"
  | "NotEntered"
  | "AlreadySwept"
  | "ValidatorNotEligible"
  | "InvalidEndpoint"
  | "BidMalformed"
  | "BidNotByMiner"
  | "BidMismatch"
  | "BidExpired"
  | "WrongVote";

/** Every IDL error by its code (6000 and up), whatever NODE_ENV says. */
export const VERDICT_PROGRAM_ERRORS: Readonly<
  Record<number, { readonly name: VerdictErrorName; readonly message: string }>
> = {
  6000: { name: "MathOverflow", message: "arithmetic overflow" },
  6001: { name: "InvalidParameter", message: "a parameter is out of its allowed bounds" },
  6002: { name: "UnbondingTooShort", message: "the unbonding period must exceed the longest payout delay plus the challenge window and the dispute vote" },
  6003: { name: "Paused", message: "the program is paused by governance" },
  6004: { name: "Unauthorized", message: "only the config authority may do this" },
  6005: { name: "NoPendingAuthority", message: "no authority transfer is pending for this signer" },
  6006: { name: "WrongMint", message: "the stake mint must be a token account of the configured mint" },
  6007: { name: "NotUpgradeAuthority", message: "on an upgradeable deployment only the upgrade authority may initialize the config" },
  6008: { name: "InvalidRoles", message: "roles must be miner, validator or both" },
  6009: { name: "TooManyModels", message: "too many models for one node" },
  6010: { name: "InvalidModelId", message: "a model id must be non-empty printable ASCII of at most 32 bytes" },
  6011: { name: "CommissionTooHigh", message: "commission exceeds the maximum allowed" },
  6012: { name: "ZeroAmount", message: "amount must be greater than zero" },
  6013: { name: "InsufficientFunds", message: "the token account holds less than the amount" },
  6014: { name: "StakeBelowMinimum", message: "self stake would be below the minimum for the node's roles" },
  6015: { name: "UnstakeExceedsStake", message: "cannot unstake more than the active self stake" },
  6016: { name: "UndelegateExceedsOwned", message: "cannot undelegate more shares than the delegation owns" },
  6017: { name: "UnbondingNotReleased", message: "the unbonding period has not elapsed yet" },
  6018: { name: "WrongTicketKind", message: "this ticket is of another kind (self stake vs delegation)" },
  6019: { name: "NodeNotEmpty", message: "the node still holds stake, delegations or unbonding tokens" },
  6020: { name: "NodeNotActive", message: "the node is not active" },
  6021: { name: "DelegationPoolInsolvent", message: "the delegation pool has shares but no tokens (fully slashed); it cannot take new delegations" },
  6022: { name: "AmountTooSmall", message: "the amount is too small to buy a single share" },
  6023: { name: "InvalidSigningKey", message: "the new signing key must sign the rotation and differ from the current one" },
  6024: { name: "WrongVault", message: "a vault or escrow account is not the one the chain recorded (the stake vault, the node's vault, the job's escrow)" },
  6025: { name: "WrongNode", message: "the account belongs to another node" },
  6026: { name: "WrongTokenOwner", message: "the source token account is not owned by the signer" },
  6027: { name: "WrongSysvar", message: "the sysvar account is not the one expected" },
  6028: { name: "MissingAttestation", message: "no ed25519 attestation instruction directly before this instruction" },
  6029: { name: "QuorumNotReached", message: "fewer committee members signed than the quorum" },
  6030: { name: "MalformedAttestation", message: "the ed25519 instruction is malformed" },
  6031: { name: "AttestationOutsideInstruction", message: "an ed25519 signature, key or message lies outside its own instruction" },
  6032: { name: "AttestationMismatch", message: "a signed message differs from the one this instruction acts on" },
  6033: { name: "NotCommitteeMember", message: "a signer is not a member of the current committee" },
  6034: { name: "DuplicateSigner", message: "a committee member signed more than once" },
  6035: { name: "RotationNotDue", message: "the committee rotation is not due yet" },
  6036: { name: "NotEnoughValidators", message: "fewer eligible validators than the quorum" },
  6037: { name: "FeeBelowMinimum", message: "the job fee is below the minimum" },
  6038: { name: "InvalidJobState", message: "the job is not in a state that allows this" },
  6039: { name: "MinerNotEligible", message: "the miner is not eligible for this job (inactive, cold, cooling down, wrong tier or model)" },
  6040: { name: "PriceAboveMaxFee", message: "the price exceeds the job's max fee" },
  6041: { name: "WrongMiner", message: "the miner account is not the job's miner" },
  6042: { name: "WrongDestination", message: "the token account does not belong to the expected owner" },
  6043: { name: "NotExpired", message: "the job has not expired yet" },
  6044: { name: "PayoutNotReleased", message: "the payout is still held" },
  6045: { name: "SettleLowRiskOnly", message: "only low-risk jobs may settle in one step" },
  6046: { name: "UnsuccessfulCompletion", message: "a completion must report success; use fail_job for failures" },
  6047: { name: "JobNotFinished", message: "the job still holds funds" },
  6048: { name: "WrongSigners", message: "the signer accounts passed do not match the job's recorded signers" },
  6049: { name: "TrialNotDue", message: "the miner is not awaiting a trial" },
  6050: { name: "NotAMember", message: "the node is not a member of the committee" },
  6051: { name: "WrongRole", message: "the node has no role for this" },
  6052: { name: "DisputeOpen", message: "a dispute over this job is open" },
  6053: { name: "SlashNotAuthorized", message: "slashing needs the governance authority, a committee quorum, or (downtime) a success rate below the threshold" },
  6054: { name: "SlashCapReached", message: "this node's slashing cap for the epoch is reached" },
  6055: { name: "NothingToSlash", message: "the node holds no stake to slash" },
  6056: { name: "NotChallengeable", message: "the job cannot be challenged (not solved, or its challenge window is over)" },
  6057: { name: "ChallengerNotActive", message: "the challenger must be an active, staked node" },
  6058: { name: "NotEligibleVoter", message: "the voter was not active and staked when the dispute opened" },
  6059: { name: "NotCommitPhase", message: "the dispute is not in its commit phase" },
  6060: { name: "NotRevealPhase", message: "the dispute is not in its reveal phase" },
  6061: { name: "RevealMismatch", message: "the revealed result and salt do not match the commitment" },
  6062: { name: "AlreadyRevealed", message: "this vote was already revealed" },
  6063: { name: "VoteNotOver", message: "the vote is not over yet" },
  6064: { name: "InvalidDisputeState", message: "the dispute is not in a state that allows this" },
  6065: { name: "NotLiquidatable", message: "this node is not to be liquidated by this dispute" },
  6066: { name: "LiquidationsPending", message: "liquidations are still pending" },
  6067: { name: "NoRewardDue", message: "only correct, unpaid voters can claim" },
  6068: { name: "ExposureLimit", message: "the miner's open exposure would exceed its slashable stake times the exposure multiple" },
  6069: { name: "SlashNeedsEvidence", message: "collusion and approving an invalid result are decided by disputes; other offenses need the authority or chain evidence" },
  6070: { name: "TimeoutReportLimit", message: "this member's counted timeout reports for the committee epoch are used up" },
  6071: { name: "JobNotInCommittee", message: "the job was not handled by the reported member's current committee" },
  6072: { name: "PartyCannotVote", message: "the miner, the challenger and the accountable co-signers cannot vote in their dispute" },
  6073: { name: "SameResult", message: "the challenger's result must differ from the disputed output" },
  6074: { name: "NothingOwed", message: "nothing is owed" },
  6075: { name: "NodeBusy", message: "the node still has open disputes, unsettled votes, job exposure or owed tokens" },
  6076: { name: "CpiNotAllowed", message: "this instruction must be called directly by a transaction, not through another program" },
  6077: { name: "VoteNotSettled", message: "the vote still has a reward, deposit or liquidation pending" },
  6078: { name: "DrawNotReady", message: "the committee draw's slot has not passed yet" },
  6079: { name: "DrawPending", message: "a committee draw is already pending" },
  6080: { name: "WrongDrawPhase", message: "the committee draw is not in the phase this step needs" },
  6081: { name: "AlreadyEntered", message: "this validator already entered the current committee draw" },
  6082: { name: "NotEntered", message: "this node did not enter the current committee draw" },
  6083: { name: "AlreadySwept", message: "this entrant was already swept in the current committee draw" },
  6084: { name: "ValidatorNotEligible", message: "the node is not an eligible validator (active, staked, scored at the minimum)" },
  6085: { name: "InvalidEndpoint", message: "an endpoint is http(s)://host[:port][/path], at most 128 printable characters, without credentials, query or fragment" },
  6086: { name: "BidMalformed", message: "the bid instruction must hold one signature over a bid message" },
  6087: { name: "BidNotByMiner", message: "the bid is not signed by the assigned miner's signing key" },
  6088: { name: "BidMismatch", message: "the bid names another job or another price" },
  6089: { name: "BidExpired", message: "the bid no longer stood when the job was placed" },
  6090: { name: "WrongVote", message: "the vote account is not this node's vote on this dispute" },
};
