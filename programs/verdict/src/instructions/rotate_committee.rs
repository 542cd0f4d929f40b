//! `rotate_committee`: permissionless crank, once per rotation period.
//! Draws the next committee from every eligible validator (active,
//! non-unbonding stake at the minimum, score ≥ the minimum) by the
//! configured strategy, with randomness from the SlotHashes sysvar. Every
//! active validator must be passed (remaining accounts), so a cranker cannot
//! bias the draw by leaving candidates out.

use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS, MAX_COMMITTEE_SIZE};
use crate::errors::VerdictError;
use crate::events::{emit_event, CommitteeRotated};
use crate::state::{Committee, Config, Node, NodeStatus, SelectionStrategy};

/// The SlotHashes sysvar (most recent slot first).
pub const SLOT_HASHES_ID: Pubkey = pubkey!("SysvarS1otHashes111111111111111111111111111");

#[derive(Accounts)]
pub struct RotateCommittee<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: Box<Account<'info, Committee>>,
    /// CHECK: the SlotHashes sysvar, checked by address; read raw (it is large).
    #[account(address = SLOT_HASHES_ID @ VerdictError::WrongSysvar)]
    pub slot_hashes: UncheckedAccount<'info>,
    /// CHECK: the instructions sysvar, checked by address: the draw must be
    /// the transaction's own instruction, not a CPI.
    #[account(address = anchor_lang::compat::solana_instructions_sysvar::ID @ VerdictError::WrongSysvar)]
    pub instructions: UncheckedAccount<'info>,
}

/// Refuses to run inside a CPI: a program calling the draw could revert
/// whenever the outcome does not suit it, and so grind the committee.
pub fn require_top_level(instructions: &AccountInfo) -> Result<()> {
    use anchor_lang::compat::solana_instructions_sysvar as ixs;
    let current = ixs::load_current_index_checked(instructions)?;
    let top = ixs::load_instruction_at_checked(current as usize, instructions)?;
    require_keys_eq!(top.program_id, crate::ID, VerdictError::CpiNotAllowed);
    Ok(())
}

/// What the draw knows of one eligible validator.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub node: Pubkey,
    pub signing_key: Pubkey,
    pub stake: u64,
    pub score: u8,
    /// Share of its committee duties it met, in bps.
    pub performance_bps: u16,
    /// Its draw from the seed.
    pub lot: u64,
}

impl Candidate {
    pub fn weight(&self) -> u128 {
        self.stake as u128 * self.score as u128
    }
}

/// The most recent slot hash.
fn latest_slot_hash(info: &AccountInfo) -> Result<[u8; 32]> {
    let data = info.try_borrow_data()?;
    let len = data
        .get(0..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(0);
    require!(len > 0, VerdictError::WrongSysvar);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&data[16..48]);
    Ok(hash)
}

/// Picks up to `size` candidates by `strategy`. Pure, so it is tested alone.
pub fn select(
    mut candidates: Vec<Candidate>,
    strategy: SelectionStrategy,
    size: usize,
    seed: &[u8; 32],
) -> Vec<Candidate> {
    use std::cmp::Reverse;
    match strategy {
        SelectionStrategy::Random => candidates.sort_by_key(|c| c.lot),
        SelectionStrategy::Reputation => candidates.sort_by_key(|c| (Reverse(c.score), c.lot)),
        SelectionStrategy::Stake => candidates.sort_by_key(|c| (Reverse(c.stake), c.lot)),
        SelectionStrategy::Performance => {
            candidates.sort_by_key(|c| (Reverse(c.performance_bps), c.lot))
        }
        SelectionStrategy::Weighted => {
            // Weighted draw without replacement, one fresh lot per pick.
            let mut picked = Vec::with_capacity(size);
            let mut round = 0u64;
            while picked.len() < size && !candidates.is_empty() {
                let total: u128 = candidates.iter().map(|c| c.weight().max(1)).sum();
                let draw = hashv(&[seed, &round.to_le_bytes()]).to_bytes();
                let mut x = u128::from_le_bytes(draw[..16].try_into().unwrap()) % total;
                let mut at = candidates.len() - 1;
                for (i, c) in candidates.iter().enumerate() {
                    let w = c.weight().max(1);
                    if x < w {
                        at = i;
                        break;
                    }
                    x -= w;
                }
                picked.push(candidates.swap_remove(at));
                round += 1;
            }
            return picked;
        }
    }
    candidates.truncate(size);
    candidates
}

pub fn handler<'info>(ctx: Context<'info, RotateCommittee<'info>>) -> Result<()> {
    require_top_level(&ctx.accounts.instructions)?;
    let now = Clock::get()?.unix_timestamp;
    let config = &ctx.accounts.config;
    let params = &config.params;
    let committee = &mut ctx.accounts.committee;
    require!(
        committee.rotation_due(now, params.committee_rotation_secs),
        VerdictError::RotationNotDue
    );

    let next_epoch = committee
        .epoch
        .checked_add(1)
        .ok_or(VerdictError::MathOverflow)?;
    let slot_hash = latest_slot_hash(&ctx.accounts.slot_hashes)?;
    let seed = hashv(&[&slot_hash, &next_epoch.to_le_bytes()]).to_bytes();

    let mut seen: Vec<Pubkey> = Vec::with_capacity(ctx.remaining_accounts.len());
    let mut counted = 0u64;
    let mut candidates = Vec::new();
    for info in ctx.remaining_accounts {
        require!(!seen.contains(info.key), VerdictError::IncompleteCandidates);
        seen.push(*info.key);
        let node: Account<Node> = Account::try_from(info)?;
        if node.counted_active && node.counted_validator {
            counted += 1;
        }
        let eligible = node.is_validator()
            && node.status == NodeStatus::Active
            && node.activity(params).active
            && node.validator_score >= params.min_validator_score;
        if eligible {
            let duties = node.attestations_signed + node.attestations_missed;
            let performance_bps = if duties == 0 {
                10_000
            } else {
                (node.attestations_signed * 10_000 / duties) as u16
            };
            let lot = hashv(&[&seed, info.key.as_ref()]).to_bytes();
            candidates.push(Candidate {
                node: *info.key,
                signing_key: node.signing_key,
                stake: node.active_stake()?,
                score: node.validator_score,
                performance_bps,
                lot: u64::from_le_bytes(lot[..8].try_into().unwrap()),
            });
        }
    }
    require!(
        counted == config.active_validators,
        VerdictError::IncompleteCandidates
    );
    require!(
        candidates.len() >= params.committee_quorum as usize,
        VerdictError::NotEnoughValidators
    );

    let size = (params.committee_size as usize)
        .min(candidates.len())
        .min(MAX_COMMITTEE_SIZE as usize);
    let chosen = select(candidates, params.selection_strategy, size, &seed);
    committee.epoch = next_epoch;
    committee.size = chosen.len() as u8;
    committee.quorum = params.committee_quorum;
    committee.members = Default::default();
    committee.signing_keys = Default::default();
    for (i, c) in chosen.iter().enumerate() {
        committee.members[i] = c.node;
        committee.signing_keys[i] = c.signing_key;
    }
    committee.rotated_at = now;
    committee.strategy = params.selection_strategy;
    committee.seed = seed;
    emit_event(&CommitteeRotated {
        epoch: committee.epoch,
        members: committee.members().to_vec(),
        quorum: committee.quorum,
        strategy: committee.strategy,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        (0..10u8)
            .map(|i| Candidate {
                node: Pubkey::new_from_array([i; 32]),
                signing_key: Pubkey::new_from_array([i + 100; 32]),
                stake: 1_000 * (i as u64 + 1),
                score: 100 - i * 5,
                performance_bps: 5_000 + i as u16 * 500,
                lot: hashv(&[&[i]]).to_bytes()[0] as u64,
            })
            .collect()
    }

    #[test]
    fn strategies_pick_by_their_criterion() {
        let seed = [7u8; 32];
        let by = |s| {
            select(candidates(), s, 3, &seed)
                .iter()
                .map(|c| c.node.to_bytes()[0])
                .collect::<Vec<_>>()
        };
        assert_eq!(by(SelectionStrategy::Stake), vec![9, 8, 7]);
        assert_eq!(by(SelectionStrategy::Reputation), vec![0, 1, 2]);
        assert_eq!(by(SelectionStrategy::Performance), vec![9, 8, 7]);
        let random = by(SelectionStrategy::Random);
        assert_eq!(random.len(), 3);
        let weighted = by(SelectionStrategy::Weighted);
        let mut distinct = weighted.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "no validator twice");
    }

    #[test]
    fn weighted_draw_favours_weight() {
        // Over many seeds the heaviest candidate is picked far more often.
        let mut hits = [0u32; 10];
        for s in 0..500u32 {
            let seed = hashv(&[&s.to_le_bytes()]).to_bytes();
            for c in select(candidates(), SelectionStrategy::Weighted, 1, &seed) {
                hits[c.node.to_bytes()[0] as usize] += 1;
            }
        }
        // weight = stake × score: candidate 9 (10_000 × 55) vs candidate 0 (1_000 × 100).
        assert!(hits[9] > 2 * hits[0], "{hits:?}");
    }
}
