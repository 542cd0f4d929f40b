//! Every way the program refuses, with a message a user can act on.

use anchor_lang::prelude::*;

#[error_code]
pub enum VerdictError {
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("a parameter is out of its allowed bounds")]
    InvalidParameter,
    #[msg("the unbonding period must exceed the longest payout delay plus the challenge window and the dispute vote")]
    UnbondingTooShort,
    #[msg("the program is paused by governance")]
    Paused,
    #[msg("only the config authority may do this")]
    Unauthorized,
    #[msg("no authority transfer is pending for this signer")]
    NoPendingAuthority,
    #[msg("the stake mint must be a token account of the configured mint")]
    WrongMint,
    #[msg("on an upgradeable deployment only the upgrade authority may initialize the config")]
    NotUpgradeAuthority,
    #[msg("roles must be miner, validator or both")]
    InvalidRoles,
    #[msg("too many models for one node")]
    TooManyModels,
    #[msg("a model id must be non-empty printable ASCII of at most 32 bytes")]
    InvalidModelId,
    #[msg("commission exceeds the maximum allowed")]
    CommissionTooHigh,
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("the token account holds less than the amount")]
    InsufficientFunds,
    #[msg("self stake would be below the minimum for the node's roles")]
    StakeBelowMinimum,
    #[msg("cannot unstake more than the active self stake")]
    UnstakeExceedsStake,
    #[msg("cannot undelegate more shares than the delegation owns")]
    UndelegateExceedsOwned,
    #[msg("the unbonding period has not elapsed yet")]
    UnbondingNotReleased,
    #[msg("this ticket is of another kind (self stake vs delegation)")]
    WrongTicketKind,
    #[msg("the node still holds stake, delegations or unbonding tokens")]
    NodeNotEmpty,
    #[msg("the node is not active")]
    NodeNotActive,
    #[msg("the delegation pool has shares but no tokens (fully slashed); it cannot take new delegations")]
    DelegationPoolInsolvent,
    #[msg("the amount is too small to buy a single share")]
    AmountTooSmall,
    #[msg("the new signing key must sign the rotation and differ from the current one")]
    InvalidSigningKey,
    #[msg("a vault or escrow account is not the one the chain recorded (the stake vault, the node's vault, the job's escrow)")]
    WrongVault,
    #[msg("the account belongs to another node")]
    WrongNode,
    #[msg("the source token account is not owned by the signer")]
    WrongTokenOwner,
    #[msg("the sysvar account is not the one expected")]
    WrongSysvar,
    #[msg("no ed25519 attestation instruction directly before this instruction")]
    MissingAttestation,
    #[msg("fewer committee members signed than the quorum")]
    QuorumNotReached,
    #[msg("the ed25519 instruction is malformed")]
    MalformedAttestation,
    #[msg("an ed25519 signature, key or message lies outside its own instruction")]
    AttestationOutsideInstruction,
    #[msg("a signed message differs from the one this instruction acts on")]
    AttestationMismatch,
    #[msg("a signer is not a member of the current committee")]
    NotCommitteeMember,
    #[msg("a committee member signed more than once")]
    DuplicateSigner,
    #[msg("the committee rotation is not due yet")]
    RotationNotDue,
    #[msg("fewer eligible validators than the quorum")]
    NotEnoughValidators,
    #[msg("the job fee is below the minimum")]
    FeeBelowMinimum,
    #[msg("the job is not in a state that allows this")]
    InvalidJobState,
    #[msg("the miner is not eligible for this job (inactive, cold, cooling down, wrong tier or model)")]
    MinerNotEligible,
    #[msg("the price exceeds the job's max fee")]
    PriceAboveMaxFee,
    #[msg("the miner account is not the job's miner")]
    WrongMiner,
    #[msg("the token account does not belong to the expected owner")]
    WrongDestination,
    #[msg("the job has not expired yet")]
    NotExpired,
    #[msg("the payout is still held")]
    PayoutNotReleased,
    #[msg("only low-risk jobs may settle in one step")]
    SettleLowRiskOnly,
    #[msg("a completion must report success; use fail_job for failures")]
    UnsuccessfulCompletion,
    #[msg("the job still holds funds")]
    JobNotFinished,
    #[msg("the signer accounts passed do not match the job's recorded signers")]
    WrongSigners,
    #[msg("the miner is not awaiting a trial")]
    TrialNotDue,
    #[msg("the node is not a member of the committee")]
    NotAMember,
    #[msg("the node has no role for this")]
    WrongRole,
    #[msg("a dispute over this job is open")]
    DisputeOpen,
    #[msg("slashing needs the governance authority, a committee quorum, or (downtime) a success rate below the threshold")]
    SlashNotAuthorized,
    #[msg("this node's slashing cap for the epoch is reached")]
    SlashCapReached,
    #[msg("the node holds no stake to slash")]
    NothingToSlash,
    #[msg("the job cannot be challenged (not solved, or its challenge window is over)")]
    NotChallengeable,
    #[msg("the challenger must be an active, staked node")]
    ChallengerNotActive,
    #[msg("the voter was not active and staked when the dispute opened")]
    NotEligibleVoter,
    #[msg("the dispute is not in its commit phase")]
    NotCommitPhase,
    #[msg("the dispute is not in its reveal phase")]
    NotRevealPhase,
    #[msg("the revealed result and salt do not match the commitment")]
    RevealMismatch,
    #[msg("this vote was already revealed")]
    AlreadyRevealed,
    #[msg("the vote is not over yet")]
    VoteNotOver,
    #[msg("the dispute is not in a state that allows this")]
    InvalidDisputeState,
    #[msg("this node is not to be liquidated by this dispute")]
    NotLiquidatable,
    #[msg("liquidations are still pending")]
    LiquidationsPending,
    #[msg("only correct, unpaid voters can claim")]
    NoRewardDue,
    #[msg(
        "the miner's open exposure would exceed its slashable stake times the exposure multiple"
    )]
    ExposureLimit,
    #[msg("collusion and approving an invalid result are decided by disputes; other offenses need the authority or chain evidence")]
    SlashNeedsEvidence,
    #[msg("this member's counted timeout reports for the committee epoch are used up")]
    TimeoutReportLimit,
    #[msg("the job was not handled by the reported member's current committee")]
    JobNotInCommittee,
    #[msg("the miner, the challenger and the accountable co-signers cannot vote in their dispute")]
    PartyCannotVote,
    #[msg("the challenger's result must differ from the disputed output")]
    SameResult,
    #[msg("nothing is owed")]
    NothingOwed,
    #[msg("the node still has open disputes, unsettled votes, job exposure or owed tokens")]
    NodeBusy,
    #[msg(
        "this instruction must be called directly by a transaction, not through another program"
    )]
    CpiNotAllowed,
    #[msg("the vote still has a reward, deposit or liquidation pending")]
    VoteNotSettled,
    #[msg("the committee draw's slot has not passed yet")]
    DrawNotReady,
    #[msg("a committee draw is already pending")]
    DrawPending,
    #[msg("the committee draw is not in the phase this step needs")]
    WrongDrawPhase,
    #[msg("this validator already entered the current committee draw")]
    AlreadyEntered,
    #[msg("this node did not enter the current committee draw")]
    NotEntered,
    #[msg("this entrant was already swept in the current committee draw")]
    AlreadySwept,
    #[msg("the node is not an eligible validator (active, staked, scored at the minimum)")]
    ValidatorNotEligible,
    #[msg("an endpoint is http(s)://host[:port][/path], at most 128 printable characters, without credentials, query or fragment")]
    InvalidEndpoint,
    #[msg("the bid instruction must hold one signature over a bid message")]
    BidMalformed,
    #[msg("the bid is not signed by the assigned miner's signing key")]
    BidNotByMiner,
    #[msg("the bid names another job or another price")]
    BidMismatch,
    #[msg("the bid no longer stood when the job was placed")]
    BidExpired,
    #[msg("the vote account is not this node's vote on this dispute")]
    WrongVote,
}

impl VerdictError {
    /// The last variant: keep it the last one declared.
    const LAST: VerdictError = VerdictError::WrongVote;

    /// The error a custom program error code stands for, so clients can show
    /// its name and message when the logs do not carry them.
    pub fn from_code(code: u32) -> Option<Self> {
        let index = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)?;
        if index > Self::LAST as u32 {
            return None;
        }
        // SAFETY: `#[error_code]` makes the enum `#[repr(u32)]` with implicit,
        // contiguous discriminants from 0, and `index` is within them.
        Some(unsafe { std::mem::transmute::<u32, VerdictError>(index) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_back_to_their_errors() {
        for e in [
            VerdictError::MathOverflow,
            VerdictError::StakeBelowMinimum,
            VerdictError::NoRewardDue,
            VerdictError::DrawPending,
            VerdictError::ValidatorNotEligible,
            VerdictError::InvalidEndpoint,
            VerdictError::BidExpired,
            VerdictError::WrongVote,
        ] {
            let back = VerdictError::from_code(e.into()).unwrap();
            assert_eq!(back.name(), e.name());
        }
        assert!(VerdictError::from_code(VerdictError::LAST as u32 + 6_001).is_none());
        assert!(VerdictError::from_code(42).is_none());
    }
}
