//! Checked integer math shared by every instruction: no floats on chain.

use anchor_lang::prelude::*;

use crate::constants::BPS_DENOMINATOR;
use crate::errors::VerdictError;

/// `a * b` when it fits in a u64, known without multiplying: SBF has no
/// 128-bit instructions, so an overflow-checked or u128 product is a
/// software routine (and a u128 division several hundred units), while
/// nearly every product here (amounts times basis points, shares of
/// pools) fits in 64 bits.
fn small_product(a: u64, b: u64) -> Option<u64> {
    // a < 2^(64 - lz(a)) and b < 2^(64 - lz(b)), so a * b < 2^64.
    (a.leading_zeros() + b.leading_zeros() >= 64).then(|| a.wrapping_mul(b))
}

/// `a * b / c`, rounded down, through u128 so the product cannot overflow.
pub fn mul_div_floor(a: u64, b: u64, c: u64) -> Result<u64> {
    require!(c != 0, VerdictError::MathOverflow);
    if let Some(product) = small_product(a, b) {
        return Ok(product / c);
    }
    let q = (a as u128) * (b as u128) / (c as u128);
    u64::try_from(q).map_err(|_| error!(VerdictError::MathOverflow))
}

/// `a * b / c`, rounded up.
pub fn mul_div_ceil(a: u64, b: u64, c: u64) -> Result<u64> {
    require!(c != 0, VerdictError::MathOverflow);
    if let Some(product) = small_product(a, b) {
        return Ok(product.div_ceil(c));
    }
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

    /// The 64-bit path and the 128-bit path agree, at and around the
    /// boundary where the product stops fitting in a u64.
    #[test]
    fn the_small_product_path_agrees_with_u128() {
        let reference = |a: u64, b: u64, c: u64| {
            let p = a as u128 * b as u128;
            (
                u64::try_from(p / c as u128).ok(),
                u64::try_from(p.div_ceil(c as u128)).ok(),
            )
        };
        let edges = [
            0,
            1,
            2,
            3,
            7,
            10_000,
            u32::MAX as u64 - 1,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            1 << 40,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                for c in [1, 2, 3, 9_999, 10_000, u64::MAX] {
                    let (floor, ceil) = reference(a, b, c);
                    assert_eq!(mul_div_floor(a, b, c).ok(), floor, "{a}*{b}/{c}");
                    assert_eq!(mul_div_ceil(a, b, c).ok(), ceil, "{a}*{b}/{c} up");
                }
                let fits = (a as u128 * b as u128) <= u64::MAX as u128;
                if small_product(a, b).is_some() {
                    assert!(fits, "{a}*{b} taken as small but overflows");
                }
            }
        }
    }

    #[test]
    fn checked_add_refuses_overflow() {
        assert!(add(u64::MAX, 1).is_err());
        assert!(sub(0, 1).is_err());
        assert!(add_secs(i64::MAX, 1).is_err());
        assert_eq!(apply_bps(1_000, 3_000).unwrap(), 300);
    }
}
