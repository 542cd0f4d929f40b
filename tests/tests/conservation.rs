//! Property test: random sequences of every value-moving instruction (stake,
//! delegate, submit, settle, fail, expire, claim, dispute, commit, reveal,
//! resolve, liquidate, slash, unstake, withdraw) never create or lose a
//! token: after each step the fixture's invariants hold (vault = totals,
//! escrows = owed, node vaults, dispute holdings) and every token of the
//! mint is accounted for in the accounts we know. Runs
//! `VERDICT_PROPTEST_CASES` (or `PROPTEST_CASES`) sequences (default 200)
//! and prints how many steps of each kind landed.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use solana_sdk::signer::Signer;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use verdict::state::{vote_commitment, FailReason, Offense, ProtocolParams, RiskLevel};
use verdict::LiquidationTarget;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[derive(Clone, Debug)]
enum Op {
    Stake {
        node: usize,
        tokens: u64,
    },
    Unstake {
        node: usize,
        tokens: u64,
    },
    Withdraw {
        node: usize,
        ticket: u64,
    },
    Delegate {
        staker: usize,
        node: usize,
        tokens: u64,
    },
    Undelegate {
        staker: usize,
        node: usize,
    },
    WithdrawDelegation {
        staker: usize,
        node: usize,
        ticket: u64,
    },
    Submit {
        tokens: u64,
    },
    Settle {
        job: u64,
        miner: usize,
    },
    Assign {
        job: u64,
        miner: usize,
    },
    Fail {
        job: u64,
    },
    Expire {
        job: u64,
        miner: usize,
    },
    Claim {
        job: u64,
        miner: usize,
    },
    Slash {
        node: usize,
        offense: u8,
    },
    Dispute {
        job: u64,
        challenger: usize,
    },
    Commit {
        job: u64,
        voter: usize,
        right: bool,
    },
    Reveal {
        job: u64,
        voter: usize,
        right: bool,
    },
    Resolve {
        job: u64,
        challenger: usize,
    },
    Liquidate {
        job: u64,
        node: usize,
        target: u8,
    },
    ClaimReward {
        job: u64,
        voter: usize,
    },
    Advance {
        hours: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..4usize;
    prop_oneof![
        (n.clone(), 1..50u64).prop_map(|(node, tokens)| Op::Stake { node, tokens }),
        (n.clone(), 1..50u64).prop_map(|(node, tokens)| Op::Unstake { node, tokens }),
        (n.clone(), 0..3u64).prop_map(|(node, ticket)| Op::Withdraw { node, ticket }),
        (0..2usize, n.clone(), 1..50u64).prop_map(|(staker, node, tokens)| Op::Delegate {
            staker,
            node,
            tokens
        }),
        (0..2usize, n.clone()).prop_map(|(staker, node)| Op::Undelegate { staker, node }),
        (0..2usize, n.clone(), 0..3u64).prop_map(|(staker, node, ticket)| Op::WithdrawDelegation {
            staker,
            node,
            ticket
        }),
        (1..20u64).prop_map(|tokens| Op::Submit { tokens }),
        (0..4u64, 0..2usize).prop_map(|(job, miner)| Op::Settle { job, miner }),
        (0..4u64, 0..2usize).prop_map(|(job, miner)| Op::Assign { job, miner }),
        (0..4u64).prop_map(|job| Op::Fail { job }),
        (0..4u64, 0..2usize).prop_map(|(job, miner)| Op::Expire { job, miner }),
        (0..4u64, 0..2usize).prop_map(|(job, miner)| Op::Claim { job, miner }),
        (n.clone(), 0..5u8).prop_map(|(node, offense)| Op::Slash { node, offense }),
        (0..4u64, 0..3usize).prop_map(|(job, challenger)| Op::Dispute { job, challenger }),
        (0..4u64, n.clone(), any::<bool>()).prop_map(|(job, voter, right)| Op::Commit {
            job,
            voter,
            right
        }),
        (0..4u64, n.clone(), any::<bool>()).prop_map(|(job, voter, right)| Op::Reveal {
            job,
            voter,
            right
        }),
        (0..4u64, 0..3usize).prop_map(|(job, challenger)| Op::Resolve { job, challenger }),
        (0..4u64, n.clone(), 0..3u8).prop_map(|(job, node, target)| Op::Liquidate {
            job,
            node,
            target
        }),
        (0..4u64, 0..3usize).prop_map(|(job, voter)| Op::ClaimReward { job, voter }),
        (1..40i64).prop_map(|hours| Op::Advance { hours }),
    ]
}

struct World {
    f: Fixture,
    a: Actors,
    /// Every token account of the stake mint we know of.
    token_accounts: Vec<Pubkey>,
}

struct Actors {
    /// Three validators (the committee), then two miners: nodes 0..=4.
    nodes: Vec<NodeHandle>,
    stakers: Vec<User>,
    client: User,
    jobs: u64,
}

const RIGHT: [u8; 32] = [9; 32];
const WRONG: [u8; 32] = [1; 32];

async fn world() -> World {
    let mut params = ProtocolParams::default();
    params.committee_size = 3;
    params.committee_quorum = 2;
    params.min_miner_stake = 10 * TOKEN;
    params.min_validator_stake = 10 * TOKEN;
    params.min_bond = TOKEN;
    params.vote_unit = TOKEN;
    let mut f = Fixture::with_params(params).await;
    let committee = f.committee_of(3).await;
    let mut nodes = committee;
    for _ in 0..2 {
        let validators: Vec<NodeHandle> = nodes[..3].iter().map(NodeHandle::duplicate).collect();
        let m = f.warm_miner(&validators, 10 * TOKEN).await;
        f.mint_to(&m.operator.tokens, 100 * TOKEN).await;
        nodes.push(m);
    }
    for v in &nodes[..3] {
        f.mint_to(&v.operator.tokens, 100 * TOKEN).await;
    }
    let stakers = vec![f.user(200 * TOKEN).await, f.user(200 * TOKEN).await];
    let client = f.user(500 * TOKEN).await;
    let mut token_accounts: Vec<Pubkey> = nodes.iter().map(|n| n.operator.tokens).collect();
    token_accounts.extend(stakers.iter().map(|s| s.tokens));
    token_accounts.push(client.tokens);
    token_accounts.push(pda::stake_vault());
    token_accounts.extend(nodes.iter().map(|n| pda::node_vault(&n.node)));
    World {
        f,
        a: Actors {
            nodes,
            stakers,
            client,
            jobs: 0,
        },
        token_accounts,
    }
}

impl Op {
    fn kind(&self) -> &'static str {
        match self {
            Op::Stake { .. } => "stake",
            Op::Unstake { .. } => "unstake",
            Op::Withdraw { .. } => "withdraw",
            Op::Delegate { .. } => "delegate",
            Op::Undelegate { .. } => "undelegate",
            Op::WithdrawDelegation { .. } => "withdraw_delegation",
            Op::Submit { .. } => "submit",
            Op::Settle { .. } => "settle",
            Op::Assign { .. } => "assign",
            Op::Fail { .. } => "fail",
            Op::Expire { .. } => "expire",
            Op::Claim { .. } => "claim",
            Op::Slash { .. } => "slash",
            Op::Dispute { .. } => "dispute",
            Op::Commit { .. } => "commit",
            Op::Reveal { .. } => "reveal",
            Op::Resolve { .. } => "resolve",
            Op::Liquidate { .. } => "liquidate",
            Op::ClaimReward { .. } => "claim_reward",
            Op::Advance { .. } => "advance",
        }
    }
}

impl Actors {
    fn node(&self, i: usize) -> &NodeHandle {
        &self.nodes[i.min(self.nodes.len() - 1)]
    }

    fn miner(&self, i: usize) -> &NodeHandle {
        &self.nodes[3 + i % 2]
    }

    fn job(&self, j: u64) -> Pubkey {
        pda::job(&self.client.pubkey(), j)
    }

    fn validators(&self) -> Vec<NodeHandle> {
        self.nodes[..3].iter().map(NodeHandle::duplicate).collect()
    }
}

impl World {
    /// Applies `op`; true when its transaction landed (refusals are part of the test too).
    async fn apply(&mut self, op: &Op) -> bool {
        let (f, a, token_accounts) = (&mut self.f, &mut self.a, &mut self.token_accounts);
        let result = match op.clone() {
            Op::Stake { node, tokens } => {
                let h = a.node(node).duplicate();
                f.stake(&h, tokens * TOKEN).await
            }
            Op::Unstake { node, tokens } => {
                let h = a.node(node).duplicate();
                f.request_unstake(&h, tokens * TOKEN).await.0
            }
            Op::Withdraw { node, ticket } => {
                let h = a.node(node).duplicate();
                let t = pda::unbond_ticket(&h.node, ticket);
                let k = h.operator.keypair.insecure_clone();
                f.send(
                    &[ix::withdraw_unbonded(
                        &k.pubkey(),
                        &h.node,
                        &t,
                        &h.operator.tokens,
                    )],
                    &[&k],
                )
                .await
            }
            Op::Delegate {
                staker,
                node,
                tokens,
            } => {
                let n = a.node(node).node;
                f.delegate(&a.stakers[staker], &n, tokens * TOKEN).await
            }
            Op::Undelegate { staker, node } => {
                let n = a.node(node).node;
                let s = &a.stakers[staker];
                let data = f
                    .chain
                    .account_data(&pda::delegation(&n, &s.pubkey()))
                    .await
                    .unwrap();
                match data.and_then(|d| {
                    verdict::state::Delegation::try_deserialize(&mut d.as_slice()).ok()
                }) {
                    Some(d) => f.request_undelegate(s, &n, d.shares.div_ceil(2)).await.0,
                    None => return false,
                }
            }
            Op::WithdrawDelegation {
                staker,
                node,
                ticket,
            } => {
                let n = a.node(node).node;
                let s = &a.stakers[staker];
                let t = pda::unbond_ticket(&n, ticket);
                f.send(
                    &[ix::withdraw_undelegated(&s.pubkey(), &n, &t, &s.tokens)],
                    &[&s.keypair],
                )
                .await
            }
            Op::Submit { tokens } => {
                let id = a.jobs;
                a.jobs += 1;
                let (r, job) = f
                    .submit_job(&a.client, id, RiskLevel::Low, tokens * TOKEN / 10)
                    .await;
                token_accounts.push(pda::escrow(&job));
                r
            }
            Op::Settle { job, miner } => {
                let (j, m, v) = (a.job(job), a.miner(miner).node, a.validators());
                let Some(state) = f.chain.account_data(&j).await.unwrap() else {
                    return false;
                };
                let max_fee = verdict::state::Job::try_deserialize(&mut state.as_slice())
                    .unwrap()
                    .max_fee;
                let mut report = good_report(0);
                report.output_hash = if miner == 0 { RIGHT } else { WRONG };
                f.settle(&v, &j, &m, max_fee / 2, report).await
            }
            Op::Assign { job, miner } => {
                let (j, m, v) = (a.job(job), a.miner(miner).node, a.validators());
                if f.chain.account_data(&j).await.unwrap().is_none() {
                    return false;
                }
                f.assign(&v, &j, &m, 1).await
            }
            Op::Fail { job } => {
                let (j, v) = (a.job(job), a.validators());
                if f.chain.account_data(&j).await.unwrap().is_none() {
                    return false;
                }
                f.fail(&v, &j, FailReason::Timeout).await
            }
            Op::Expire { job, miner } => {
                let (j, m) = (a.job(job), a.miner(miner).node);
                f.send(&[ix::expire_job(&j, Some(m), &a.client.tokens)], &[])
                    .await
            }
            Op::Claim { job, miner } => {
                let (j, m) = (a.job(job), a.miner(miner).duplicate());
                f.claim_raw(&j, &m, &a.client.tokens).await
            }
            Op::Slash { node, offense } => {
                let n = a.node(node).node;
                let offense = [
                    Offense::InvalidSignature,
                    Offense::Collusion,
                    Offense::ApproveInvalid,
                    Offense::Downtime,
                    Offense::FrontRunning,
                ][offense as usize];
                let authority = f.authority.insecure_clone();
                let payer = f.chain.payer().await.pubkey();
                let evidence = [f.now as u8 ^ node as u8; 32];
                f.send(
                    &[ix::slash_node(
                        &payer,
                        Some(authority.pubkey()),
                        &n,
                        offense,
                        evidence,
                    )],
                    &[&authority],
                )
                .await
            }
            Op::Dispute { job, challenger } => {
                let (j, c) = (a.job(job), a.node(challenger).duplicate());
                let k = c.operator.keypair.insecure_clone();
                let Some(job) = f
                    .fetch_optional::<verdict::state::Job>(&j)
                    .await
                    .ok()
                    .flatten()
                else {
                    return false;
                };
                let result = if job.output_hash == RIGHT {
                    WRONG
                } else {
                    RIGHT
                };
                f.send(
                    &[ix::open_dispute(
                        &k.pubkey(),
                        &c.operator.tokens,
                        &j,
                        &job,
                        result,
                    )],
                    &[&k],
                )
                .await
            }
            Op::Commit { job, voter, right } => {
                let (d, v) = (pda::dispute(&a.job(job)), a.node(voter).duplicate());
                let result = if right { RIGHT } else { WRONG };
                let commitment = vote_commitment(&result, &[7; 32], &v.node);
                let k = v.operator.keypair.insecure_clone();
                f.send(
                    &[ix::commit_vote(
                        &k.pubkey(),
                        &v.operator.tokens,
                        &d,
                        commitment,
                    )],
                    &[&k],
                )
                .await
            }
            Op::Reveal { job, voter, right } => {
                let (d, v) = (pda::dispute(&a.job(job)), a.node(voter).duplicate());
                let result = if right { RIGHT } else { WRONG };
                let k = v.operator.keypair.insecure_clone();
                f.send(
                    &[ix::reveal_vote(
                        &k.pubkey(),
                        &v.operator.tokens,
                        &d,
                        result,
                        [7; 32],
                    )],
                    &[&k],
                )
                .await
            }
            Op::Resolve { job, challenger: _ } => {
                let j = a.job(job);
                let (Some(job), Some(dispute)) = (
                    f.fetch_optional::<verdict::state::Job>(&j)
                        .await
                        .ok()
                        .flatten(),
                    f.fetch_optional(&pda::dispute(&j)).await.ok().flatten(),
                ) else {
                    return false;
                };
                f.send(&[ix::resolve_dispute(&j, &job, &dispute)], &[])
                    .await
            }
            Op::Liquidate { job, node, target } => {
                let d = pda::dispute(&a.job(job));
                let n = a.node(node).node;
                let target = match target {
                    0 => LiquidationTarget::Voter,
                    1 => LiquidationTarget::Miner,
                    _ => LiquidationTarget::Signer((node % 3) as u8),
                };
                f.send(
                    &[ix::liquidate(
                        &d,
                        &n,
                        target,
                        Some((a.job(job), a.client.tokens)),
                    )],
                    &[],
                )
                .await
            }
            Op::ClaimReward { job, voter } => {
                let d = pda::dispute(&a.job(job));
                let v = a.node(voter).duplicate();
                let k = v.operator.keypair.insecure_clone();
                f.send(
                    &[ix::claim_dispute_reward(
                        &k.pubkey(),
                        &d,
                        &v.operator.tokens,
                    )],
                    &[&k],
                )
                .await
            }
            Op::Advance { hours } => {
                f.advance(hours * 3_600).await;
                return true;
            }
        };
        result.is_ok()
    }

    /// Every token of the mint sits in an account we know.
    async fn check_supply(&mut self) {
        let mint_data = self
            .f
            .chain
            .account_data(&self.f.mint)
            .await
            .unwrap()
            .unwrap();
        let supply = anchor_spl::token::Mint::try_deserialize(&mut mint_data.as_slice())
            .unwrap()
            .supply;
        let mut held = 0u128;
        for account in &self.token_accounts {
            if self.f.exists(account).await {
                held += self.f.token_balance(account).await as u128;
            }
        }
        assert_eq!(held, supply as u128, "tokens created or lost");
    }
}

fn cases() -> u32 {
    ["VERDICT_PROPTEST_CASES", "PROPTEST_CASES"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
        .unwrap_or(200)
}

/// Landed, refused and skipped (no transaction sent) steps, per op kind,
/// over every case of the run (shrinking included).
static STATS: Mutex<BTreeMap<&'static str, [u64; 3]>> = Mutex::new(BTreeMap::new());

fn record(kind: &'static str, landed: bool) {
    let mut stats = STATS.lock().unwrap();
    stats.entry(kind).or_default()[if landed { 0 } else { 1 }] += 1;
}

/// Written to stderr directly, so the summary shows even when the harness
/// captures the test's output.
fn print_stats(cases: u32) {
    let stats = STATS.lock().unwrap();
    let (mut landed, mut refused) = (0, 0);
    let mut out = format!("conservation: {cases} cases; per op kind: landed / not landed\n");
    for (kind, [l, r, _]) in stats.iter() {
        out += &format!("  {kind:<20} {l:>6} / {r:>6}\n");
        landed += l;
        refused += r;
    }
    let total = (landed + refused).max(1);
    out += &format!(
        "  total                {landed:>6} / {refused:>6}  ({:.1}% landed)\n",
        100.0 * landed as f64 / total as f64
    );
    let _ = std::io::stderr().write_all(out.as_bytes());
}

fn run_case(ops: &[Op]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut w = world().await;
        w.check_supply().await;
        for op in ops {
            // The fixture checks the invariants after each transaction.
            let landed = w.apply(op).await;
            record(op.kind(), landed);
            w.check_supply().await;
        }
    });
}

#[test]
fn no_sequence_creates_or_loses_a_token() {
    let config = ProptestConfig {
        cases: cases(),
        max_shrink_iters: 64,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        run_case(&ops);
        Ok(())
    });
    print_stats(cases);
    if let Err(e) = result {
        panic!("{e}");
    }
}
