//! Reads the program's events back out of transaction logs.

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use verdict::events::*;

/// The SBF runtime logs event data as `Program data: …`; on the host the
/// same line arrives through `sol_log`, so it carries the `Program log: `
/// prefix as well.
const DATA_PREFIX: &str = "Program data: ";
const HOST_DATA_PREFIX: &str = "Program log: Program data: ";

macro_rules! events {
    ($($name:ident),* $(,)?) => {
        /// Every event the program emits.
        #[derive(Debug, Clone)]
        pub enum VerdictEvent { $($name($name)),* }

        fn decode_one(bytes: &[u8]) -> Option<VerdictEvent> {
            $(
                if let Some(mut rest) = bytes.strip_prefix($name::DISCRIMINATOR) {
                    return $name::deserialize(&mut rest).ok().map(VerdictEvent::$name);
                }
            )*
            None
        }
    };
}

events!(
    ConfigInitialized,
    ConfigUpdated,
    PausedSet,
    AuthorityProposed,
    AuthorityAccepted,
    NodeRegistered,
    NodeUpdated,
    SigningKeyRotated,
    Staked,
    UnbondingQueued,
    UnbondingWithdrawn,
    Delegated,
    NodeClosed,
    CommitteeRotated,
    CommitteeDrawEntered,
    CommitteeDrawRequested,
    CommitteeDrawSeeded,
    CommitteeDrawSwept,
    CommitteeDrawAborted,
    JobSubmitted,
    JobAssigned,
    JobCompleted,
    JobFailed,
    JobRefunded,
    PayoutClaimed,
    JobClosed,
    ReputationChanged,
    TrialRecorded,
    HeartbeatRecorded,
    NodeEndpointSet,
    ValidatorScoreChanged,
    RewardsCompounded,
    BoostClaimed,
    RewardPoolFunded,
    NodeSlashed,
    SlashForgiven,
    DisputeOpened,
    VoteCommitted,
    VoteRevealed,
    DisputeResolved,
    NodeLiquidated,
    DisputeRewardClaimed,
    OwedWithdrawn,
    NodeCredited,
    RefundClaimed,
);

/// Every Verdict event in `logs`, in order. Only lines logged while the
/// Verdict program itself was executing count, so another program cannot
/// forge a Verdict event by logging the same bytes.
pub fn parse_logs<S: AsRef<str>>(logs: &[S]) -> Vec<VerdictEvent> {
    let verdict_id = verdict::ID.to_string();
    let mut stack: Vec<&str> = Vec::new();
    let mut events = Vec::new();
    for line in logs.iter().map(|l| l.as_ref()) {
        if let Some(rest) = line.strip_prefix("Program ") {
            let mut words = rest.split(' ');
            let (program, verb) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            if verb == "invoke" {
                stack.push(program);
                continue;
            }
            if verb == "success" || verb == "failed:" {
                stack.pop();
                continue;
            }
        }
        if stack.last() != Some(&verdict_id.as_str()) {
            continue;
        }
        let payload = line
            .strip_prefix(HOST_DATA_PREFIX)
            .or_else(|| line.strip_prefix(DATA_PREFIX));
        if let Some(event) = payload
            .and_then(|b64| {
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .ok()
            })
            .and_then(|bytes| decode_one(&bytes))
        {
            events.push(event);
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event;

    fn data_line(prefix: &str) -> String {
        let event = PausedSet { paused: true };
        format!(
            "{prefix}{}",
            base64::engine::general_purpose::STANDARD.encode(event.data())
        )
    }

    #[test]
    fn reads_events_inside_verdict_only() {
        let id = verdict::ID;
        let logs = vec![
            format!("Program {id} invoke [1]"),
            data_line(DATA_PREFIX),
            data_line(HOST_DATA_PREFIX),
            "Program Other1111111111111111111111111111111 invoke [2]".to_string(),
            data_line(DATA_PREFIX),
            "Program Other1111111111111111111111111111111 success".to_string(),
            format!("Program {id} success"),
            data_line(DATA_PREFIX),
        ];
        let events = parse_logs(&logs);
        assert_eq!(events.len(), 2, "{events:?}");
    }
}
