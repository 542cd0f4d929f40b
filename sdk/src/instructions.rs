//! One builder per program instruction. Each derives every PDA itself and
//! takes only what the caller chooses (signers, token accounts, amounts).

use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{Discriminator, InstructionData, ToAccountMetas};
use verdict::accounts as acc;
use verdict::attestation::CompletionReport;
use verdict::instruction as ix;
use verdict::state::{
    Dispute, FailReason, Job, JobStatus, ModelId, Offense, ProtocolParams, RiskLevel,
    SlashingTable, Vote,
};
use verdict::LiquidationTarget;
use verdict::{RegisterNodeArgs, SubmitJobArgs, UpdateNodeArgs};

use crate::pda;

const TOKEN_PROGRAM: Pubkey = anchor_spl::token::ID;
const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;
const INSTRUCTIONS_SYSVAR: Pubkey = solana_sdk::sysvar::instructions::ID;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: verdict::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `program_data` is the program's ProgramData account when it is deployed
/// upgradeable ([`pda::program_data`]); `None` otherwise.
pub fn initialize_config(
    authority: &Pubkey,
    stake_mint: &Pubkey,
    program_data: Option<Pubkey>,
    params: ProtocolParams,
    slashing: SlashingTable,
) -> Instruction {
    build(
        acc::InitializeConfig {
            authority: *authority,
            config: pda::config(),
            stake_mint: *stake_mint,
            stake_vault: pda::stake_vault(),
            committee: pda::committee(),
            program: verdict::ID,
            program_data,
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::InitializeConfig { params, slashing },
    )
}

pub fn update_config(
    authority: &Pubkey,
    params: ProtocolParams,
    slashing: SlashingTable,
) -> Instruction {
    build(
        acc::UpdateConfig {
            authority: *authority,
            config: pda::config(),
        },
        ix::UpdateConfig { params, slashing },
    )
}

pub fn set_paused(authority: &Pubkey, paused: bool) -> Instruction {
    build(
        acc::SetPaused {
            authority: *authority,
            config: pda::config(),
        },
        ix::SetPaused { paused },
    )
}

pub fn propose_authority(authority: &Pubkey, proposed: &Pubkey) -> Instruction {
    build(
        acc::ProposeAuthority {
            authority: *authority,
            config: pda::config(),
        },
        ix::ProposeAuthority {
            proposed: *proposed,
        },
    )
}

pub fn accept_authority(new_authority: &Pubkey) -> Instruction {
    build(
        acc::AcceptAuthority {
            new_authority: *new_authority,
            config: pda::config(),
        },
        ix::AcceptAuthority {},
    )
}

pub fn register_node(
    operator: &Pubkey,
    signing_key: &Pubkey,
    stake_mint: &Pubkey,
    roles: u8,
    models: Vec<ModelId>,
    commission_bps: u16,
) -> Instruction {
    build(
        acc::RegisterNode {
            operator: *operator,
            signing_key: *signing_key,
            config: pda::config(),
            node: pda::node(operator),
            node_vault: pda::node_vault(&pda::node(operator)),
            stake_mint: *stake_mint,
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::RegisterNode {
            args: RegisterNodeArgs {
                roles,
                models,
                commission_bps,
            },
        },
    )
}

pub fn update_node(
    operator: &Pubkey,
    roles: u8,
    models: Vec<ModelId>,
    commission_bps: u16,
) -> Instruction {
    build(
        acc::UpdateNode {
            operator: *operator,
            config: pda::config(),
            node: pda::node(operator),
        },
        ix::UpdateNode {
            args: UpdateNodeArgs {
                roles,
                models,
                commission_bps,
            },
        },
    )
}

pub fn rotate_signing_key(operator: &Pubkey, new_signing_key: &Pubkey) -> Instruction {
    build(
        acc::RotateSigningKey {
            operator: *operator,
            new_signing_key: *new_signing_key,
            node: pda::node(operator),
            committee: pda::committee(),
        },
        ix::RotateSigningKey {},
    )
}

pub fn close_node(operator: &Pubkey) -> Instruction {
    build(
        acc::CloseNode {
            operator: *operator,
            config: pda::config(),
            node: pda::node(operator),
            committee: pda::committee(),
        },
        ix::CloseNode {},
    )
}

pub fn stake(operator: &Pubkey, operator_tokens: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::Stake {
            operator: *operator,
            config: pda::config(),
            node: pda::node(operator),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::Stake { amount },
    )
}

/// `ticket_id` is the node's current `next_ticket_id`.
pub fn request_unstake(operator: &Pubkey, ticket_id: u64, amount: u64) -> Instruction {
    let node = pda::node(operator);
    build(
        acc::RequestUnstake {
            operator: *operator,
            config: pda::config(),
            node,
            ticket: pda::unbond_ticket(&node, ticket_id),
            system_program: SYSTEM_PROGRAM,
        },
        ix::RequestUnstake { amount },
    )
}

fn withdraw_accounts(
    owner: &Pubkey,
    node: &Pubkey,
    ticket: &Pubkey,
    destination: &Pubkey,
) -> acc::WithdrawUnbonded {
    acc::WithdrawUnbonded {
        owner: *owner,
        config: pda::config(),
        node: *node,
        ticket: *ticket,
        destination: *destination,
        stake_vault: pda::stake_vault(),
        token_program: TOKEN_PROGRAM,
    }
}

pub fn withdraw_unbonded(
    owner: &Pubkey,
    node: &Pubkey,
    ticket: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        withdraw_accounts(owner, node, ticket, destination),
        ix::WithdrawUnbonded {},
    )
}

pub fn delegate(
    staker: &Pubkey,
    node: &Pubkey,
    staker_tokens: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        acc::Delegate {
            staker: *staker,
            config: pda::config(),
            node: *node,
            delegation: pda::delegation(node, staker),
            staker_tokens: *staker_tokens,
            stake_vault: pda::stake_vault(),
            node_vault: pda::node_vault(node),
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::Delegate { amount },
    )
}

/// `ticket_id` is the node's current `next_ticket_id`.
pub fn request_undelegate(
    staker: &Pubkey,
    node: &Pubkey,
    ticket_id: u64,
    shares: u64,
) -> Instruction {
    build(
        acc::RequestUndelegate {
            staker: *staker,
            config: pda::config(),
            node: *node,
            delegation: pda::delegation(node, staker),
            ticket: pda::unbond_ticket(node, ticket_id),
            node_vault: pda::node_vault(node),
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::RequestUndelegate { shares },
    )
}

pub fn withdraw_undelegated(
    owner: &Pubkey,
    node: &Pubkey,
    ticket: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        withdraw_accounts(owner, node, ticket, destination),
        ix::WithdrawUndelegated {},
    )
}

/// `signer` is the node's operator or its signing key.
pub fn enter_committee_draw(signer: &Pubkey, node: &Pubkey) -> Instruction {
    build(
        acc::EnterCommitteeDraw {
            signer: *signer,
            config: pda::config(),
            committee: pda::committee(),
            node: *node,
        },
        ix::EnterCommitteeDraw {},
    )
}

pub fn request_committee_draw() -> Instruction {
    build(
        acc::RequestCommitteeDraw {
            config: pda::config(),
            committee: pda::committee(),
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::RequestCommitteeDraw {},
    )
}

pub fn seed_committee_draw() -> Instruction {
    build(
        acc::SeedCommitteeDraw {
            config: pda::config(),
            committee: pda::committee(),
            slot_hashes: verdict::instructions::request_committee_draw::SLOT_HASHES_ID,
        },
        ix::SeedCommitteeDraw {},
    )
}

/// Sweeps `entrants` (entered, not yet swept) into the draw.
pub fn sweep_committee_draw(entrants: &[Pubkey]) -> Instruction {
    let mut ix = build(
        acc::SweepCommitteeDraw {
            config: pda::config(),
            committee: pda::committee(),
        },
        ix::SweepCommitteeDraw {},
    );
    ix.accounts
        .extend(entrants.iter().map(|e| AccountMeta::new(*e, false)));
    ix
}

#[allow(clippy::too_many_arguments)]
pub fn submit_job(
    client: &Pubkey,
    client_tokens: &Pubkey,
    stake_mint: &Pubkey,
    job_id: u64,
    model: ModelId,
    input_hash: [u8; 32],
    risk: RiskLevel,
    max_fee: u64,
) -> Instruction {
    let job = pda::job(client, job_id);
    build(
        acc::SubmitJob {
            client: *client,
            config: pda::config(),
            job,
            escrow: pda::escrow(&job),
            stake_mint: *stake_mint,
            client_tokens: *client_tokens,
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::SubmitJob {
            args: SubmitJobArgs {
                job_id,
                model,
                input_hash,
                risk,
                max_fee,
            },
        },
    )
}

pub fn assign_job(job: &Pubkey, miner: &Pubkey, price: u64) -> Instruction {
    build(
        acc::AssignJob {
            config: pda::config(),
            committee: pda::committee(),
            job: *job,
            miner: *miner,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::AssignJob { price },
    )
}

pub fn complete_job(job: &Pubkey, miner: &Pubkey, report: CompletionReport) -> Instruction {
    build(
        acc::CompleteJob {
            config: pda::config(),
            committee: pda::committee(),
            job: *job,
            miner: *miner,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::CompleteJob { report },
    )
}

pub fn settle_job(
    job: &Pubkey,
    miner: &Pubkey,
    price: u64,
    report: CompletionReport,
) -> Instruction {
    build(
        acc::SettleJob {
            config: pda::config(),
            committee: pda::committee(),
            job: *job,
            miner: *miner,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::SettleJob { price, report },
    )
}

/// `refund_account` is the job's `refund_account` (the client's token account).
pub fn fail_job(
    job: &Pubkey,
    miner: &Pubkey,
    refund_account: &Pubkey,
    reason: FailReason,
) -> Instruction {
    build(
        acc::FailJob {
            config: pda::config(),
            committee: pda::committee(),
            job: *job,
            miner: *miner,
            escrow: pda::escrow(job),
            refund_account: *refund_account,
            token_program: TOKEN_PROGRAM,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::FailJob { reason },
    )
}

pub fn reject_job(job: &Pubkey, refund_account: &Pubkey, reason_code: u8) -> Instruction {
    build(
        acc::RejectJob {
            config: pda::config(),
            committee: pda::committee(),
            job: *job,
            escrow: pda::escrow(job),
            refund_account: *refund_account,
            token_program: TOKEN_PROGRAM,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::RejectJob { reason_code },
    )
}

/// `miner`: the allocated miner when the job is ALLOCATED, else `None`.
pub fn expire_job(job: &Pubkey, miner: Option<Pubkey>, refund_account: &Pubkey) -> Instruction {
    build(
        acc::ExpireJob {
            config: pda::config(),
            job: *job,
            miner,
            escrow: pda::escrow(job),
            refund_account: *refund_account,
            token_program: TOKEN_PROGRAM,
        },
        ix::ExpireJob {},
    )
}

/// The miner's operator is credited (`Node::owed`, see [`withdraw_owed`]);
/// `refund_account` is the job's recorded refund account.
pub fn claim_payout(job: &Pubkey, miner: &Pubkey, refund_account: &Pubkey) -> Instruction {
    build(
        acc::ClaimPayout {
            config: pda::config(),
            job: *job,
            miner: *miner,
            escrow: pda::escrow(job),
            node_vault: pda::node_vault(miner),
            refund_account: *refund_account,
            token_program: TOKEN_PROGRAM,
        },
        ix::ClaimPayout {},
    )
}

/// Closes a finished job: pass the job as read from the chain (its miner
/// and, for a paid job, its recorded signers are credited).
pub fn close_job(job_address: &Pubkey, job: &Job) -> Instruction {
    let miner = (job.exposure > 0).then_some(job.miner);
    let mut ix = build(
        acc::CloseJob {
            config: pda::config(),
            job: *job_address,
            client: job.client,
            escrow: pda::escrow(job_address),
            miner,
            token_program: TOKEN_PROGRAM,
        },
        ix::CloseJob {},
    );
    if job.status() == JobStatus::Paid {
        ix.accounts
            .extend(job.signers().iter().map(|s| AccountMeta::new(*s, false)));
        ix.accounts.extend(
            job.signers()
                .iter()
                .map(|s| AccountMeta::new(pda::node_vault(s), false)),
        );
    }
    ix
}

/// The node's operator takes what the node is owed into `destination` (its own token account).
pub fn withdraw_owed(operator: &Pubkey, destination: &Pubkey) -> Instruction {
    let node = pda::node(operator);
    build(
        acc::WithdrawOwed {
            operator: *operator,
            config: pda::config(),
            node,
            node_vault: pda::node_vault(&node),
            destination: *destination,
            token_program: TOKEN_PROGRAM,
        },
        ix::WithdrawOwed {},
    )
}

/// The client takes a refund its recorded account could not receive.
pub fn claim_refund(client: &Pubkey, job: &Pubkey, destination: &Pubkey) -> Instruction {
    build(
        acc::ClaimRefund {
            client: *client,
            config: pda::config(),
            job: *job,
            escrow: pda::escrow(job),
            destination: *destination,
            token_program: TOKEN_PROGRAM,
        },
        ix::ClaimRefund {},
    )
}

pub fn record_trial(miner: &Pubkey, passed: bool) -> Instruction {
    build(
        acc::RecordTrial {
            config: pda::config(),
            committee: pda::committee(),
            miner: *miner,
            instructions: INSTRUCTIONS_SYSVAR,
        },
        ix::RecordTrial { passed },
    )
}

/// `signer`: the node's operator or its signing key.
pub fn heartbeat(signer: &Pubkey, node: &Pubkey) -> Instruction {
    build(
        acc::Heartbeat {
            signer: *signer,
            config: pda::config(),
            node: *node,
        },
        ix::Heartbeat {},
    )
}

/// Records `url` as where `node` serves; `signer` (the operator or the
/// node's signing key) pays the account's rent the first time.
pub fn set_node_endpoint(signer: &Pubkey, node: &Pubkey, url: &str) -> Instruction {
    build(
        acc::SetNodeEndpoint {
            signer: *signer,
            node: *node,
            endpoint: pda::endpoint(node),
            system_program: SYSTEM_PROGRAM,
        },
        ix::SetNodeEndpoint {
            url: url.to_string(),
        },
    )
}

/// Removes `node`'s endpoint; the rent goes to its `operator`.
pub fn close_node_endpoint(signer: &Pubkey, node: &Pubkey, operator: &Pubkey) -> Instruction {
    build(
        acc::CloseNodeEndpoint {
            signer: *signer,
            operator: *operator,
            node: *node,
            endpoint: pda::endpoint(node),
        },
        ix::CloseNodeEndpoint {},
    )
}

pub fn report_validator_timeout(payer: &Pubkey, validator: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        acc::ReportValidatorTimeout {
            payer: *payer,
            config: pda::config(),
            committee: pda::committee(),
            validator: *validator,
            job: *job,
            report: pda::timeout_report(validator, job),
            instructions: INSTRUCTIONS_SYSVAR,
            system_program: SYSTEM_PROGRAM,
        },
        ix::ReportValidatorTimeout {},
    )
}

pub fn compound_rewards(node: &Pubkey) -> Instruction {
    build(
        acc::CompoundRewards {
            config: pda::config(),
            node: *node,
            node_vault: pda::node_vault(node),
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::CompoundRewards {},
    )
}

pub fn claim_boost(node: &Pubkey, operator_tokens: &Pubkey) -> Instruction {
    build(
        acc::ClaimBoost {
            config: pda::config(),
            node: *node,
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::ClaimBoost {},
    )
}

pub fn fund_reward_pool(funder: &Pubkey, funder_tokens: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::FundRewardPool {
            funder: *funder,
            config: pda::config(),
            funder_tokens: *funder_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::FundRewardPool { amount },
    )
}

/// `authority`: the governance authority when it slashes; `None` for a
/// downtime slash the chain's record justifies (evidence:
/// `verdict::instructions::slash_node::downtime_evidence(verdict epoch)`).
pub fn slash_node(
    payer: &Pubkey,
    authority: Option<Pubkey>,
    node: &Pubkey,
    offense: Offense,
    evidence_hash: [u8; 32],
) -> Instruction {
    build(
        acc::SlashNode {
            payer: *payer,
            authority,
            config: pda::config(),
            node: *node,
            record: pda::slash_record(node, &evidence_hash),
            system_program: SYSTEM_PROGRAM,
        },
        ix::SlashNode {
            offense,
            evidence_hash,
        },
    )
}

/// Challenges `job` (as read from the chain) with the result the
/// challenger recomputed; the bond comes from `operator_tokens`.
pub fn open_dispute(
    operator: &Pubkey,
    operator_tokens: &Pubkey,
    job_address: &Pubkey,
    job: &Job,
    challenger_result: [u8; 32],
) -> Instruction {
    let mut ix = build(
        acc::OpenDispute {
            operator: *operator,
            config: pda::config(),
            challenger: pda::node(operator),
            job: *job_address,
            miner: job.miner,
            dispute: pda::dispute(job_address),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::OpenDispute { challenger_result },
    );
    let (signers, count) = job.accountable_signers();
    ix.accounts.extend(
        signers[..count as usize]
            .iter()
            .map(|s| AccountMeta::new(*s, false)),
    );
    ix
}

/// `commitment` = `verdict::state::vote_commitment(result, salt, voter node)`;
/// the vote deposit comes from `operator_tokens`.
pub fn commit_vote(
    operator: &Pubkey,
    operator_tokens: &Pubkey,
    dispute: &Pubkey,
    commitment: [u8; 32],
) -> Instruction {
    let voter = pda::node(operator);
    build(
        acc::CommitVote {
            operator: *operator,
            config: pda::config(),
            voter,
            dispute: *dispute,
            vote: pda::vote(dispute, &voter),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::CommitVote { commitment },
    )
}

/// The vote deposit returns to `operator_tokens`.
pub fn reveal_vote(
    operator: &Pubkey,
    operator_tokens: &Pubkey,
    dispute: &Pubkey,
    result: [u8; 32],
    salt: [u8; 32],
) -> Instruction {
    let voter = pda::node(operator);
    build(
        acc::RevealVote {
            operator: *operator,
            config: pda::config(),
            voter,
            dispute: *dispute,
            vote: pda::vote(dispute, &voter),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::RevealVote { result, salt },
    )
}

/// Resolves the dispute over `job_address` (pass the job and the dispute
/// as read from the chain); permissionless.
pub fn resolve_dispute(job_address: &Pubkey, job: &Job, dispute: &Dispute) -> Instruction {
    let mut ix = build(
        acc::ResolveDispute {
            config: pda::config(),
            dispute: pda::dispute(job_address),
            job: *job_address,
            escrow: pda::escrow(job_address),
            refund_account: job.refund_account,
            challenger: dispute.challenger,
            challenger_vault: pda::node_vault(&dispute.challenger),
            miner: dispute.miner,
            miner_vault: pda::node_vault(&dispute.miner),
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::ResolveDispute {},
    );
    ix.accounts.extend(
        dispute
            .signers()
            .iter()
            .map(|s| AccountMeta::new(*s, false)),
    );
    ix
}

/// Liquidates one target of a decided dispute. `job`: the disputed job
/// (address and recorded refund account), needed while the client is owed
/// a refund; passing it always is harmless.
pub fn liquidate(
    dispute: &Pubkey,
    node: &Pubkey,
    target: LiquidationTarget,
    job: Option<(Pubkey, Pubkey)>,
) -> Instruction {
    let vote = (target == LiquidationTarget::Voter).then(|| pda::vote(dispute, node));
    build(
        acc::Liquidate {
            config: pda::config(),
            dispute: *dispute,
            node: *node,
            node_vault: pda::node_vault(node),
            vote,
            job: job.map(|(j, _)| j),
            escrow: job.map(|(j, _)| pda::escrow(&j)),
            refund_account: job.map(|(_, r)| r),
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::Liquidate { target },
    )
}

/// Every liquidation a decided dispute still waits for: the miner and the
/// unslashed signers of an overturned outcome, then each revealed vote
/// against the result (from `votes`, any Vote accounts). Order does not
/// matter to the program (the client is paid first out of the pool).
pub fn pending_liquidations<'a>(
    address: &Pubkey,
    dispute: &Dispute,
    votes: impl IntoIterator<Item = &'a Vote>,
) -> Vec<(Pubkey, LiquidationTarget)> {
    let mut targets = Vec::new();
    if dispute.miner_liquidatable() {
        targets.push((dispute.miner, LiquidationTarget::Miner));
    }
    for (i, signer) in dispute.signers().iter().enumerate() {
        if dispute.signer_liquidatable(i) {
            targets.push((*signer, LiquidationTarget::Signer(i as u8)));
        }
    }
    let mut voters: Vec<Pubkey> = votes
        .into_iter()
        .filter(|v| v.dispute == *address && dispute.vote_liquidatable(v))
        .map(|v| v.voter)
        .collect();
    voters.sort();
    targets.extend(voters.into_iter().map(|v| (v, LiquidationTarget::Voter)));
    targets
}

pub fn claim_dispute_reward(
    operator: &Pubkey,
    dispute: &Pubkey,
    operator_tokens: &Pubkey,
) -> Instruction {
    let voter = pda::node(operator);
    build(
        acc::ClaimDisputeReward {
            operator: *operator,
            config: pda::config(),
            voter,
            dispute: *dispute,
            vote: pda::vote(dispute, &voter),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::ClaimDisputeReward {},
    )
}

/// Closes a settled vote (never revealed, unresolved dispute, or liquidated).
pub fn close_vote(operator: &Pubkey, dispute: &Pubkey) -> Instruction {
    let voter = pda::node(operator);
    build(
        acc::CloseVote {
            operator: *operator,
            voter,
            dispute: *dispute,
            vote: pda::vote(dispute, &voter),
        },
        ix::CloseVote {},
    )
}

/// Name of the Verdict instruction encoded in `data`, from its discriminator.
pub fn instruction_name(data: &[u8]) -> Option<&'static str> {
    const NAMES: &[(&[u8], &str)] = &[
        (ix::InitializeConfig::DISCRIMINATOR, "initialize_config"),
        (ix::UpdateConfig::DISCRIMINATOR, "update_config"),
        (ix::SetPaused::DISCRIMINATOR, "set_paused"),
        (ix::ProposeAuthority::DISCRIMINATOR, "propose_authority"),
        (ix::AcceptAuthority::DISCRIMINATOR, "accept_authority"),
        (ix::RegisterNode::DISCRIMINATOR, "register_node"),
        (ix::UpdateNode::DISCRIMINATOR, "update_node"),
        (ix::RotateSigningKey::DISCRIMINATOR, "rotate_signing_key"),
        (ix::CloseNode::DISCRIMINATOR, "close_node"),
        (ix::Stake::DISCRIMINATOR, "stake"),
        (ix::RequestUnstake::DISCRIMINATOR, "request_unstake"),
        (ix::WithdrawUnbonded::DISCRIMINATOR, "withdraw_unbonded"),
        (ix::Delegate::DISCRIMINATOR, "delegate"),
        (ix::RequestUndelegate::DISCRIMINATOR, "request_undelegate"),
        (
            ix::WithdrawUndelegated::DISCRIMINATOR,
            "withdraw_undelegated",
        ),
        (
            ix::EnterCommitteeDraw::DISCRIMINATOR,
            "enter_committee_draw",
        ),
        (
            ix::RequestCommitteeDraw::DISCRIMINATOR,
            "request_committee_draw",
        ),
        (ix::SeedCommitteeDraw::DISCRIMINATOR, "seed_committee_draw"),
        (
            ix::SweepCommitteeDraw::DISCRIMINATOR,
            "sweep_committee_draw",
        ),
        (
            ix::ReportValidatorTimeout::DISCRIMINATOR,
            "report_validator_timeout",
        ),
        (ix::SubmitJob::DISCRIMINATOR, "submit_job"),
        (ix::AssignJob::DISCRIMINATOR, "assign_job"),
        (ix::CompleteJob::DISCRIMINATOR, "complete_job"),
        (ix::SettleJob::DISCRIMINATOR, "settle_job"),
        (ix::FailJob::DISCRIMINATOR, "fail_job"),
        (ix::RejectJob::DISCRIMINATOR, "reject_job"),
        (ix::ExpireJob::DISCRIMINATOR, "expire_job"),
        (ix::ClaimPayout::DISCRIMINATOR, "claim_payout"),
        (ix::CloseJob::DISCRIMINATOR, "close_job"),
        (ix::RecordTrial::DISCRIMINATOR, "record_trial"),
        (ix::Heartbeat::DISCRIMINATOR, "heartbeat"),
        (ix::SetNodeEndpoint::DISCRIMINATOR, "set_node_endpoint"),
        (ix::CloseNodeEndpoint::DISCRIMINATOR, "close_node_endpoint"),
        (ix::CompoundRewards::DISCRIMINATOR, "compound_rewards"),
        (ix::ClaimBoost::DISCRIMINATOR, "claim_boost"),
        (ix::FundRewardPool::DISCRIMINATOR, "fund_reward_pool"),
        (ix::SlashNode::DISCRIMINATOR, "slash_node"),
        (ix::OpenDispute::DISCRIMINATOR, "open_dispute"),
        (ix::CommitVote::DISCRIMINATOR, "commit_vote"),
        (ix::RevealVote::DISCRIMINATOR, "reveal_vote"),
        (ix::ResolveDispute::DISCRIMINATOR, "resolve_dispute"),
        (ix::Liquidate::DISCRIMINATOR, "liquidate"),
        (
            ix::ClaimDisputeReward::DISCRIMINATOR,
            "claim_dispute_reward",
        ),
        (ix::CloseVote::DISCRIMINATOR, "close_vote"),
        (ix::WithdrawOwed::DISCRIMINATOR, "withdraw_owed"),
        (ix::ClaimRefund::DISCRIMINATOR, "claim_refund"),
    ];
    NAMES
        .iter()
        .find(|(d, _)| data.starts_with(d))
        .map(|(_, n)| *n)
}

/// Replaces every occurrence of account `from` in `ix` by `to` (handy for
/// tests that feed the program a wrong account).
pub fn replace_account(mut ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *from) {
        *meta = AccountMeta {
            pubkey: *to,
            ..meta.clone()
        };
    }
    ix
}
