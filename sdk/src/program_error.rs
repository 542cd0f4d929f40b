//! A refused transaction as the program states it: its error name, code
//! and message, read from the logs or from the runtime's custom error code.

/// A refusal by the Verdict program (or another), as its logs state it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFailure {
    /// e.g. `StakeBelowMinimum`
    pub name: Option<String>,
    pub code: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, self.code) {
            (Some(name), Some(code)) => write!(f, "{name} ({code}): {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

impl ProgramFailure {
    /// Reads Anchor's `Error Code: X. Error Number: N. Error Message: M.` log
    /// line; without one (natively Anchor prints it to stdout, not to the
    /// log) decodes the runtime's `custom program error: 0x…` as a Verdict
    /// error; else keeps the runtime's description.
    pub fn from_logs(logs: &[String], fallback: String) -> Self {
        for line in logs {
            if let Some(rest) = line.split("Error Code: ").nth(1) {
                let name = rest.split('.').next().map(str::to_string);
                let code = rest
                    .split("Error Number: ")
                    .nth(1)
                    .and_then(|r| r.split('.').next())
                    .and_then(|n| n.parse().ok());
                let message = rest
                    .split("Error Message: ")
                    .nth(1)
                    .map(|m| m.trim_end_matches('.').to_string())
                    .unwrap_or_else(|| fallback.clone());
                return ProgramFailure {
                    name,
                    code,
                    message,
                };
            }
        }
        let code = fallback
            .split("custom program error: 0x")
            .nth(1)
            .and_then(|hex| {
                u32::from_str_radix(
                    &hex.chars()
                        .take_while(|c| c.is_ascii_hexdigit())
                        .collect::<String>(),
                    16,
                )
                .ok()
            });
        match code.and_then(verdict::errors::VerdictError::from_code) {
            Some(e) => ProgramFailure {
                name: Some(e.name()),
                code,
                message: e.to_string(),
            },
            None => ProgramFailure {
                name: None,
                code,
                message: fallback,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_anchor_errors_from_logs() {
        let logs = vec![
            "Program log: AnchorError thrown in programs/verdict/src/instructions/stake.rs:41. Error Code: StakeBelowMinimum. Error Number: 6014. Error Message: self stake would be below the minimum for the node's roles.".to_string(),
        ];
        let f = ProgramFailure::from_logs(&logs, "custom program error: 0x177e".into());
        assert_eq!(f.name.as_deref(), Some("StakeBelowMinimum"));
        assert_eq!(f.code, Some(6014));
        assert_eq!(
            f.message,
            "self stake would be below the minimum for the node's roles"
        );
        let plain = ProgramFailure::from_logs(&[], "insufficient funds".into());
        assert_eq!(plain.to_string(), "insufficient funds");
        let coded = ProgramFailure::from_logs(
            &[],
            "Error processing Instruction 0: custom program error: 0x1770".into(),
        );
        assert_eq!(
            (coded.name.as_deref(), coded.code),
            (Some("MathOverflow"), Some(6000))
        );
    }
}
