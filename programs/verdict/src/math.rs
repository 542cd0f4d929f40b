//! Checked integer math shared by every instruction: no floats on chain.

use anchor_lang::prelude::*;

use crate::constants::BPS_DENOMINATOR;
use crate::errors::VerdictError;

/// `a * b / c`, rounded down, through u128 so the product cannot overflow.
pub fn mul_div_floor(a: u64, b: u64, c: u64) -> Result<u64> {
    require!(c != 0, VerdictError::MathOverflow);
    let q = (a as u128) * (b as u128) / (c as u128);
    u64::try_from(q).map_err(|_| error!(VerdictError::MathOverflow))
}

/// `a * b / c`, rounded up.
pub fn mul_div_ceil(a: u64, b: u64, c: u64) -> Result<u64> {
    require!(c != 0, VerdictError::MathOverflow);
    let q = ((a as u128) * (b as u128)).div_ceil(c as u128);
    u64::try_from(q).map_err(|_| error!(VerdictError::MathOverflow))
}

/// `amount * bps / 10_000`, rounded down.
pub fn apply_bps(amount: u64, bps: u16) -> Result<u64> {
    mul_div_floor(amount, bps as u64, BPS_DENOMINATOR)
}

pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| error!(VerdictError::MathOverflow))
}

pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(VerdictError::MathOverflow))
}

pub fn add_secs(t: i64, secs: i64) -> Result<i64> {
    t.checked_add(secs)
        .ok_or_else(|| error!(VerdictError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_rounds_both_ways() {
        assert_eq!(mul_div_floor(10, 1, 3).unwrap(), 3);
        assert_eq!(mul_div_ceil(10, 1, 3).unwrap(), 4);
        assert_eq!(mul_div_ceil(9, 1, 3).unwrap(), 3);
    }

    #[test]
    fn mul_div_survives_u64_max_products_and_refuses_overflowing_results() {
        assert_eq!(
            mul_div_floor(u64::MAX, u64::MAX, u64::MAX).unwrap(),
            u64::MAX
        );
        assert!(mul_div_floor(u64::MAX, 2, 1).is_err());
        assert!(mul_div_floor(1, 1, 0).is_err());
    }

    #[test]
    fn checked_add_refuses_overflow() {
        assert!(add(u64::MAX, 1).is_err());
        assert!(sub(0, 1).is_err());
        assert!(add_secs(i64::MAX, 1).is_err());
        assert_eq!(apply_bps(1_000, 3_000).unwrap(), 300);
    }
}
