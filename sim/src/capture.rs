//! Experiment `capture` (being written): see the list of properties.

use crate::{Report, RuleSet, SimConfig, SimError};

#[derive(Clone, Debug, Default)]
pub struct Findings {}

pub fn run(
    _cfg: &SimConfig,
    _rules: &[RuleSet],
    _report: &mut Report,
) -> Result<Findings, SimError> {
    Ok(Findings::default())
}
