//! The accounting invariants: the stake vault holds exactly what the Config
//! says, and every total equals the sum of the accounts it summarizes. Pure:
//! tests, the demo's report and operators run it over any snapshot.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use verdict::state::{Config, Delegation, Dispute, DisputeStatus, Job, Node, UnbondTicket};

use crate::accounts::VerdictAccount;

/// Every Verdict account of a deployment, plus the stake vault's balance.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub config: Option<Config>,
    pub stake_vault_balance: u64,
    pub nodes: BTreeMap<Pubkey, Node>,
    pub delegations: BTreeMap<Pubkey, Delegation>,
    pub tickets: BTreeMap<Pubkey, UnbondTicket>,
    pub jobs: BTreeMap<Pubkey, Job>,
    pub disputes: BTreeMap<Pubkey, Dispute>,
    /// Token balances of per-account vaults (job escrows, node vaults), by
    /// vault address; fill with [`Snapshot::vaults`] addresses.
    pub token_balances: BTreeMap<Pubkey, u64>,
}

impl Snapshot {
    /// Builds a snapshot from raw program accounts (unknown data is skipped;
    /// undecodable Verdict data is an error).
    pub fn from_accounts<'a>(
        accounts: impl IntoIterator<Item = (Pubkey, &'a [u8])>,
        stake_vault_balance: u64,
    ) -> Result<Self, crate::SdkError> {
        let mut s = Snapshot {
            stake_vault_balance,
            ..Default::default()
        };
        for (address, data) in accounts {
            match VerdictAccount::decode(&address, data) {
                Some(Ok(VerdictAccount::Config(c))) => s.config = Some(*c),
                Some(Ok(VerdictAccount::Node(n))) => {
                    s.nodes.insert(address, *n);
                }
                Some(Ok(VerdictAccount::Delegation(d))) => {
                    s.delegations.insert(address, d);
                }
                Some(Ok(VerdictAccount::UnbondTicket(t))) => {
                    s.tickets.insert(address, t);
                }
                Some(Ok(VerdictAccount::Job(j))) => {
                    s.jobs.insert(address, *j);
                }
                Some(Ok(VerdictAccount::Dispute(d))) => {
                    s.disputes.insert(address, *d);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
        Ok(s)
    }
}

impl Snapshot {
    /// Every per-account vault whose balance the invariants need: each
    /// job's escrow and each node's vault.
    pub fn vaults(&self) -> Vec<Pubkey> {
        let escrows = self.jobs.keys().map(crate::pda::escrow);
        escrows
            .chain(self.nodes.keys().map(crate::pda::node_vault))
            .collect()
    }
}

/// Checks every invariant; returns each violation in words.
pub fn check(s: &Snapshot) -> Result<(), Vec<String>> {
    let mut violations = Vec::new();
    let Some(config) = &s.config else {
        if s.nodes.is_empty() && s.stake_vault_balance == 0 {
            return Ok(());
        }
        return Err(vec!["accounts exist but the Config does not".into()]);
    };
    let t = &config.totals;
    let vault_total = t.self_stake as u128
        + t.delegated as u128
        + t.unbonding as u128
        + t.reward_pool as u128
        + t.disputes as u128;
    expect(
        &mut violations,
        "stake vault balance vs Config totals",
        s.stake_vault_balance as u128,
        vault_total,
    );

    let sum = |f: fn(&Node) -> u64| s.nodes.values().map(|n| f(n) as u128).sum::<u128>();
    expect(
        &mut violations,
        "Config self stake vs sum over nodes",
        t.self_stake as u128,
        sum(|n| n.self_stake),
    );
    expect(
        &mut violations,
        "Config delegated vs sum over nodes",
        t.delegated as u128,
        sum(|n| n.delegation.amount),
    );
    expect(
        &mut violations,
        "Config unbonding vs sum over nodes",
        t.unbonding as u128,
        sum(|n| n.unbonding.amount),
    );
    expect(
        &mut violations,
        "Config nodes registered vs nodes",
        config.nodes_registered as u128,
        s.nodes.len() as u128,
    );
    let active = s.nodes.values().filter(|n| n.counted_active()).count();
    let validators = s
        .nodes
        .values()
        .filter(|n| n.counted_active() && n.counted_validator())
        .count();
    expect(
        &mut violations,
        "Config active nodes vs nodes counted active",
        config.active_nodes as u128,
        active as u128,
    );
    expect(
        &mut violations,
        "Config active validators vs validators counted",
        config.active_validators as u128,
        validators as u128,
    );

    for (address, node) in &s.nodes {
        let delegated: u128 = s
            .delegations
            .values()
            .filter(|d| d.node == *address)
            .map(|d| d.shares as u128)
            .sum();
        expect(
            &mut violations,
            &format!("node {address} delegation shares"),
            node.delegation.shares as u128,
            delegated,
        );
        let unbonding: u128 = s
            .tickets
            .values()
            .filter(|t| t.node == *address)
            .map(|t| t.shares as u128)
            .sum();
        expect(
            &mut violations,
            &format!("node {address} unbonding shares"),
            node.unbonding.shares as u128,
            unbonding,
        );
        for (name, pool) in [
            ("delegation", node.delegation),
            ("unbonding", node.unbonding),
        ] {
            if pool.shares == 0 && pool.amount != 0 {
                violations.push(format!(
                    "node {address} {name} pool holds {} tokens with no shares",
                    pool.amount
                ));
            }
        }
    }
    for (address, node) in &s.nodes {
        let vault = s
            .token_balances
            .get(&crate::pda::node_vault(address))
            .copied()
            .unwrap_or(0);
        let owed = node.pending_delegator_rewards as u128 + node.owed as u128;
        expect(
            &mut violations,
            &format!("node {address} vault vs pending delegator rewards and owed"),
            vault as u128,
            owed,
        );
    }
    for (address, job) in &s.jobs {
        let escrow = s
            .token_balances
            .get(&crate::pda::escrow(address))
            .copied()
            .unwrap_or(0);
        expect(
            &mut violations,
            &format!("job {address} escrow vs what it owes ({:?})", job.status()),
            escrow as u128,
            job.owed() as u128,
        );
    }
    // Disputes hold their open bond and unrevealed deposits, then their voters' pool.
    let held: u128 = s
        .disputes
        .values()
        .map(|d| {
            let open = if d.status() == DisputeStatus::Voting {
                d.bond as u128 + d.deposits_held as u128
            } else {
                0
            };
            d.pool as u128 + open
        })
        .sum();
    let reserves: u128 = s.nodes.values().map(|n| n.refund_reserve as u128).sum();
    expect(
        &mut violations,
        "Config disputes vs bonds, pools and refund reserves held",
        t.disputes as u128,
        held + reserves,
    );
    for (address, node) in &s.nodes {
        if node.refund_reserve > node.exposure {
            violations.push(format!(
                "node {address} refund reserve {} above its exposure {}",
                node.refund_reserve, node.exposure
            ));
        }
    }
    for (address, d) in &s.delegations {
        if !s.nodes.contains_key(&d.node) {
            violations.push(format!("delegation {address} points at a missing node"));
        }
    }
    for (address, t) in &s.tickets {
        if !s.nodes.contains_key(&t.node) {
            violations.push(format!("ticket {address} points at a missing node"));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn expect(violations: &mut Vec<String>, what: &str, actual: u128, expected: u128) {
    if actual != expected {
        violations.push(format!("{what}: is {actual}, expected {expected}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict::state::{Activity, SharePool, StakeTotals, TicketKind};

    fn config(totals: StakeTotals, nodes: u64, active: u64) -> Config {
        let mut config = Config::default();
        config.authority = Pubkey::new_unique();
        config.stake_mint = Pubkey::new_unique();
        config.stake_vault = Pubkey::new_unique();
        (config.bump, config.vault_bump) = (255, 255);
        config.totals = totals;
        config.nodes_registered = nodes;
        config.active_nodes = active;
        config
    }

    fn node(self_stake: u64, delegation: SharePool, unbonding: SharePool) -> Node {
        let mut node = Node::register(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            1,
            0,
            255,
            Pubkey::new_unique(),
            0,
        );
        node.self_stake = self_stake;
        node.delegation = delegation;
        node.unbonding = unbonding;
        node.validator_score = 50;
        node.set_counted(Activity {
            active: true,
            validator: false,
        });
        node
    }

    /// A consistent deployment: one node with 100 staked, 50 delegated by
    /// one staker, 30 unbonding behind one ticket, 7 in the reward pool.
    fn consistent() -> (Snapshot, Pubkey) {
        let node_key = Pubkey::new_unique();
        let totals = StakeTotals {
            self_stake: 100,
            delegated: 50,
            unbonding: 30,
            reward_pool: 7,
            disputes: 0,
        };
        let mut s = Snapshot {
            config: Some(config(totals, 1, 1)),
            stake_vault_balance: 187,
            ..Default::default()
        };
        s.nodes.insert(
            node_key,
            node(
                100,
                SharePool {
                    amount: 50,
                    shares: 50,
                },
                SharePool {
                    amount: 30,
                    shares: 30,
                },
            ),
        );
        s.delegations.insert(
            Pubkey::new_unique(),
            Delegation {
                node: node_key,
                staker: Pubkey::new_unique(),
                shares: 50,
                bump: 255,
            },
        );
        s.tickets.insert(
            Pubkey::new_unique(),
            UnbondTicket {
                node: node_key,
                owner: Pubkey::new_unique(),
                kind: TicketKind::SelfStake,
                id: 0,
                shares: 30,
                requested_amount: 30,
                release_at: 0,
                bump: 255,
            },
        );
        (s, node_key)
    }

    #[test]
    fn consistent_accounting_passes() {
        check(&consistent().0).unwrap();
    }

    #[test]
    fn a_token_missing_from_the_vault_is_caught() {
        let (mut s, _) = consistent();
        s.stake_vault_balance -= 1;
        let v = check(&s).unwrap_err();
        assert!(v[0].contains("stake vault balance"), "{v:?}");
    }

    #[test]
    fn a_total_that_disagrees_with_its_nodes_is_caught() {
        let (mut s, node_key) = consistent();
        s.nodes.get_mut(&node_key).unwrap().self_stake = 99;
        let v = check(&s).unwrap_err();
        assert!(
            v.iter().any(|m| m.contains("self stake vs sum over nodes")),
            "{v:?}"
        );
    }

    #[test]
    fn shares_that_disagree_with_their_holders_are_caught() {
        let (mut s, node_key) = consistent();
        s.delegations.values_mut().next().unwrap().shares = 49;
        s.nodes.get_mut(&node_key).unwrap().unbonding.shares = 31;
        let v = check(&s).unwrap_err();
        assert!(v.iter().any(|m| m.contains("delegation shares")), "{v:?}");
        assert!(v.iter().any(|m| m.contains("unbonding shares")), "{v:?}");
    }

    #[test]
    fn an_escrow_or_node_vault_off_by_one_is_caught() {
        let (mut s, node_key) = consistent();
        s.nodes
            .get_mut(&node_key)
            .unwrap()
            .pending_delegator_rewards = 5;
        s.token_balances
            .insert(crate::pda::node_vault(&node_key), 4);
        let v = check(&s).unwrap_err();
        assert!(
            v.iter()
                .any(|m| m.contains("vault vs pending delegator rewards")),
            "{v:?}"
        );
    }

    #[test]
    fn stranded_tokens_and_miscounted_nodes_are_caught() {
        let (mut s, node_key) = consistent();
        let n = s.nodes.get_mut(&node_key).unwrap();
        n.set_counted(Activity::default());
        n.delegation.shares = 0;
        s.delegations.clear();
        let v = check(&s).unwrap_err();
        assert!(v.iter().any(|m| m.contains("active nodes")), "{v:?}");
        assert!(v.iter().any(|m| m.contains("with no shares")), "{v:?}");
    }
}
