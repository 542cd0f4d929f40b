//! A pool of tokens owned pro rata by share holders: a slash lowers every
//! holder's value at once without touching their accounts.

use anchor_lang::prelude::*;

use crate::errors::VerdictError;
use crate::math::{add, mul_div_floor, sub};

/// Stored in the Node (zero-copy).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SharePool {
    /// Tokens held by the pool (in the stake vault).
    pub amount: u64,
    /// Shares outstanding.
    pub shares: u64,
}

/// What burning shares paid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redeemed {
    /// Tokens owed to the holder.
    pub value: u64,
    /// Rounding dust left with no shares behind it (the last holder left);
    /// the caller moves it to the reward pool so no token is stranded.
    pub dust: u64,
}

impl SharePool {
    /// Adds `amount` tokens and returns the shares minted (rounded down, in
    /// the pool's favour). The first deposit mints one share per token.
    pub fn deposit(&mut self, amount: u64) -> Result<u64> {
        self.deposit_with_receivable(amount, 0)
    }

    /// Like `deposit`, with the share price counting `receivable`: tokens
    /// owed to the current holders but not in the pool yet (a boost the
    /// reward pool could not pay). The depositor pays for its part of the
    /// receivable, so when it arrives its shares are worth what it paid and
    /// the earlier holders keep the whole of what they earned.
    pub fn deposit_with_receivable(&mut self, amount: u64, receivable: u64) -> Result<u64> {
        require!(amount > 0, VerdictError::ZeroAmount);
        let minted = if self.shares == 0 {
            require!(self.amount == 0, VerdictError::DelegationPoolInsolvent);
            amount
        } else {
            require!(self.amount > 0, VerdictError::DelegationPoolInsolvent);
            mul_div_floor(amount, self.shares, add(self.amount, receivable)?)?
        };
        require!(minted > 0, VerdictError::AmountTooSmall);
        self.amount = add(self.amount, amount)?;
        self.shares = add(self.shares, minted)?;
        Ok(minted)
    }

    /// Token value of `shares` at the current share price (rounded down).
    pub fn value_of(&self, shares: u64) -> Result<u64> {
        if shares == 0 {
            return Ok(0);
        }
        mul_div_floor(shares, self.amount, self.shares)
    }

    /// Burns `shares` and returns their value.
    pub fn redeem(&mut self, shares: u64) -> Result<Redeemed> {
        require!(shares > 0, VerdictError::ZeroAmount);
        require!(shares <= self.shares, VerdictError::UndelegateExceedsOwned);
        let value = self.value_of(shares)?;
        self.amount = sub(self.amount, value)?;
        self.shares = sub(self.shares, shares)?;
        let dust = if self.shares == 0 {
            std::mem::take(&mut self.amount)
        } else {
            0
        };
        Ok(Redeemed { value, dust })
    }

    /// Removes `amount` tokens from the pool without burning shares (a
    /// slash): every holder's value drops pro rata.
    pub fn take(&mut self, amount: u64) -> Result<()> {
        self.amount = sub(self.amount, amount)?;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.amount == 0 && self.shares == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_pays_for_its_part_of_a_receivable() {
        let mut p = SharePool::default();
        let alice = p.deposit(1_000).unwrap();
        // 200 owed to alice and not paid yet: bob's 1,200 buys 1,000 shares.
        let bob = p.deposit_with_receivable(1_200, 200).unwrap();
        assert_eq!(bob, 1_000);
        // Paid: alice has her 1,000 and the 200, bob what he paid.
        p.amount += 200;
        assert_eq!(p.value_of(alice).unwrap(), 1_200);
        assert_eq!(p.value_of(bob).unwrap(), 1_200);
    }

    #[test]
    fn first_deposit_is_one_to_one_and_later_ones_follow_the_price() {
        let mut p = SharePool::default();
        assert_eq!(p.deposit(1_000).unwrap(), 1_000);
        p.take(500).unwrap(); // slashed by half: a share is now worth 0.5
        assert_eq!(p.deposit(500).unwrap(), 1_000);
        assert_eq!(p.value_of(1_000).unwrap(), 500);
    }

    #[test]
    fn slash_lowers_every_holder_pro_rata() {
        let mut p = SharePool::default();
        let a = p.deposit(300).unwrap();
        let b = p.deposit(700).unwrap();
        p.take(100).unwrap();
        assert_eq!(p.value_of(a).unwrap(), 270);
        assert_eq!(p.value_of(b).unwrap(), 630);
    }

    #[test]
    fn last_redeem_sweeps_dust() {
        let mut p = SharePool::default();
        let a = p.deposit(2).unwrap();
        let b = p.deposit(1).unwrap();
        p.take(1).unwrap(); // 2 tokens, 3 shares
        let ra = p.redeem(a).unwrap();
        assert_eq!(ra, Redeemed { value: 1, dust: 0 });
        let rb = p.redeem(b).unwrap();
        assert_eq!(rb.value + rb.dust, 1);
        assert!(p.is_empty());
    }

    #[test]
    fn insolvent_pool_refuses_deposits_and_tiny_amounts_are_refused() {
        let mut p = SharePool::default();
        p.deposit(10).unwrap();
        p.take(10).unwrap();
        assert!(p.deposit(5).is_err());
        let mut p = SharePool::default();
        p.deposit(1_000).unwrap();
        p.amount = 1_000_000; // one share is worth 1_000 tokens
        assert!(p.deposit(999).is_err());
    }

    #[test]
    fn overflow_at_u64_max_is_refused() {
        let mut p = SharePool::default();
        p.deposit(u64::MAX).unwrap();
        assert!(p.deposit(1).is_err());
        assert!(p.redeem(u64::MAX).is_ok());
        assert!(p.redeem(1).is_err());
    }
}
