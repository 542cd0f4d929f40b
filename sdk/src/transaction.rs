//! Transaction assembly: compute budget, fee payer, signatures.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::hash::Hash;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

/// Optional compute-budget settings prepended to a transaction.
#[derive(Clone, Copy, Debug, Default)]
pub struct ComputeBudget {
    pub unit_limit: Option<u32>,
    pub micro_lamports_per_unit: Option<u64>,
}

impl ComputeBudget {
    pub fn instructions(&self) -> Vec<Instruction> {
        let mut ixs = Vec::new();
        if let Some(limit) = self.unit_limit {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_limit(limit));
        }
        if let Some(price) = self.micro_lamports_per_unit {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(price));
        }
        ixs
    }
}

/// Signs `instructions` into one transaction paid by `payer`. `signers` may
/// include the payer; duplicates are ignored.
pub fn build_transaction(
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    budget: ComputeBudget,
    recent_blockhash: Hash,
) -> Transaction {
    let mut all = budget.instructions();
    all.extend_from_slice(instructions);
    let mut keys: Vec<&Keypair> = vec![payer];
    for s in signers {
        if !keys.iter().any(|k| k.pubkey() == s.pubkey()) {
            keys.push(s);
        }
    }
    Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, recent_blockhash)
}

/// The most bytes a transaction may have: one network packet.
pub const PACKET_DATA_SIZE: usize = 1_232;

/// Whether `instructions` fit in one packet as a transaction paid by a fee
/// payer they do not name, with both compute-budget instructions (the most
/// any Verdict client adds), signed by every signer they name.
pub fn fits_in_packet(instructions: &[Instruction]) -> bool {
    let budget = ComputeBudget {
        unit_limit: Some(u32::MAX),
        micro_lamports_per_unit: Some(u64::MAX),
    };
    let mut all = budget.instructions();
    all.extend_from_slice(instructions);
    let payer = Pubkey::new_from_array([0xfe; 32]);
    let tx = Transaction::new_with_payer(&all, Some(&payer));
    // A short-vec length (one byte below 128), the signatures, the message.
    let size = 1 + 64 * tx.signatures.len() + tx.message_data().len();
    size <= PACKET_DATA_SIZE
}
