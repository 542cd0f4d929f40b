//! Token amounts as people type them (`1000.5`) and as the chain holds them
//! (base units of a 9-decimal mint), converted without floating point.

use std::fmt;
use std::str::FromStr;

/// Decimals of the stake mint (`config init` refuses any other mint).
pub const DECIMALS: usize = 9;
/// Base units in one whole token.
pub const ONE_TOKEN: u64 = verdict::constants::defaults::TOKEN;

/// A positive amount of the stake token, in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenAmount(pub u64);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("'{0}' is not a token amount (digits, optionally a point and up to 9 decimals, e.g. 1000.5)")]
    Malformed(String),
    #[error("'{input}' has {decimals} decimal places; the stake token has 9")]
    TooManyDecimals { input: String, decimals: usize },
    #[error("'{0}' is more than the token can hold")]
    TooLarge(String),
    #[error("the amount must be greater than zero")]
    Zero,
}

impl FromStr for TokenAmount {
    type Err = AmountError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let malformed = || AmountError::Malformed(input.to_string());
        let (whole, fraction) = match input.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (input, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(malformed());
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > DECIMALS {
            return Err(AmountError::TooManyDecimals {
                input: input.to_string(),
                decimals: fraction.len(),
            });
        }
        let too_large = || AmountError::TooLarge(input.to_string());
        let whole: u64 = whole.parse().map_err(|_| too_large())?;
        let padded = format!("{fraction:0<DECIMALS$}");
        let fraction: u64 = padded.parse().map_err(|_| malformed())?;
        let base = whole
            .checked_mul(ONE_TOKEN)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(too_large)?;
        if base == 0 {
            return Err(AmountError::Zero);
        }
        Ok(TokenAmount(base))
    }
}

impl fmt::Display for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_tokens(self.0))
    }
}

/// Base units as a decimal with all 9 places: `1000.000000000`.
pub fn format_tokens(base_units: u64) -> String {
    format!("{}.{:09}", base_units / ONE_TOKEN, base_units % ONE_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<u64, AmountError> {
        s.parse::<TokenAmount>().map(|a| a.0)
    }

    #[test]
    fn parses_whole_and_decimal_amounts() {
        assert_eq!(parse("1"), Ok(ONE_TOKEN));
        assert_eq!(parse("1000.5"), Ok(1_000_500_000_000));
        assert_eq!(parse("0.000000001"), Ok(1));
        assert_eq!(parse("18446744073.709551615"), Ok(u64::MAX));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        assert!(matches!(
            parse("1.0000000001"),
            Err(AmountError::TooManyDecimals { decimals: 10, .. })
        ));
        for bad in ["", "1.", ".5", "-1", "1e9", "1,5", " 1", "abc"] {
            assert!(
                matches!(parse(bad), Err(AmountError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert_eq!(parse("0"), Err(AmountError::Zero));
        assert_eq!(parse("0.000000000"), Err(AmountError::Zero));
        assert!(matches!(
            parse("18446744073.709551616"),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            parse("99999999999999999999999"),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn formats_with_nine_places() {
        assert_eq!(format_tokens(1_000 * ONE_TOKEN), "1000.000000000");
        assert_eq!(format_tokens(1), "0.000000001");
        assert_eq!(TokenAmount(1_000_500_000_000).to_string(), "1000.500000000");
    }
}
