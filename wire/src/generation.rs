//! Reproducible text generation: the job input a generative job carries, and
//! the sampling rule every honest node applies to the model's logits, so
//! that anyone who runs the model regenerates the same tokens.
//!
//! The rule: at each step the logits are rounded to multiples of
//! 1 / [`LOGIT_SCALE`]; the candidates are the `top_k` largest rounded logits
//! (ties to the lower token id); each gets the integer weight
//! `round(2^32 · exp((l - l_max) / T))`, computed in f64 from the rounded
//! values; a 64-bit draw `u64_le(sha256(seed ‖ u32_le step)[..8]) mod Σw`
//! picks one by cumulative weight. `seed` is
//! sha256("VERDICT-SAMPLING-V1" ‖ job id ‖ miner key) ([`sampling_seed`]), so
//! a node's tokens are fixed by the job and by who answers, and a keeper
//! rechecking another miner asks for that miner's seed. Greedy decoding
//! (`top_k == 1` or a temperature of 0) takes the largest rounded logit.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Logits are rounded to multiples of 1 / 1000 before sampling: three orders
/// above the f32 noise of a forward pass, far below the gaps that decide
/// which token is likely.
pub const LOGIT_SCALE: f32 = 1_000.0;

/// Longest prompt, in bytes.
pub const MAX_PROMPT_BYTES: usize = 2_048;
/// Most tokens a job may ask for.
pub const MAX_NEW_TOKENS: u32 = 256;
/// Tokens generated when a client does not say.
pub const DEFAULT_NEW_TOKENS: u32 = 48;
/// Largest K.
pub const MAX_TOP_K: u32 = 200;
/// Hottest temperature, in thousandths.
pub const MAX_TEMPERATURE_MILLI: u32 = 2_000;

const SAMPLING_DOMAIN: &[u8] = b"VERDICT-SAMPLING-V1";
/// Integer weight of the most likely candidate: 2^32.
const WEIGHT_ONE: f64 = 4_294_967_296.0;

/// What a generative job asks for. Its JSON text is the job's input, so the
/// input hash on chain binds the prompt and every sampling parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationInput {
    /// The user's message; the model sees it inside its chat template.
    pub prompt: String,
    /// Most tokens to generate (the end-of-turn token is not counted).
    pub max_tokens: u32,
    /// Sample among the K most likely tokens; 1 is greedy.
    pub top_k: u32,
    /// Temperature in thousandths (700 = 0.7); 0 is greedy.
    pub temperature_milli: u32,
}

/// Why a job's input is not a valid generation request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerationInputError {
    #[error("a generative job's input must be a JSON object {{prompt, max_tokens, top_k, temperature_milli}}: {0}")]
    NotJson(String),
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("the prompt is {0} bytes; at most {MAX_PROMPT_BYTES}")]
    PromptTooLong(usize),
    #[error("max_tokens must be 1 to {MAX_NEW_TOKENS}, got {0}")]
    MaxTokens(u32),
    #[error("top_k must be 1 to {MAX_TOP_K}, got {0}")]
    TopK(u32),
    #[error("temperature_milli must be at most {MAX_TEMPERATURE_MILLI}, got {0}")]
    Temperature(u32),
}

impl GenerationInput {
    /// A request with the default length, sampling among the top 40 at 0.7.
    pub fn new(prompt: impl Into<String>) -> Self {
        GenerationInput {
            prompt: prompt.into(),
            max_tokens: DEFAULT_NEW_TOKENS,
            top_k: 40,
            temperature_milli: 700,
        }
    }

    /// Greedy decoding: the same tokens for every miner.
    pub fn greedy(prompt: impl Into<String>, max_tokens: u32) -> Self {
        GenerationInput {
            prompt: prompt.into(),
            max_tokens,
            top_k: 1,
            temperature_milli: 0,
        }
    }

    /// Parses and checks a job's input text.
    pub fn parse(input: &str) -> Result<Self, GenerationInputError> {
        let parsed: GenerationInput = serde_json::from_str(input)
            .map_err(|error| GenerationInputError::NotJson(error.to_string()))?;
        parsed.check()?;
        Ok(parsed)
    }

    /// Checks every bound.
    pub fn check(&self) -> Result<(), GenerationInputError> {
        if self.prompt.trim().is_empty() {
            return Err(GenerationInputError::EmptyPrompt);
        }
        if self.prompt.len() > MAX_PROMPT_BYTES {
            return Err(GenerationInputError::PromptTooLong(self.prompt.len()));
        }
        if !(1..=MAX_NEW_TOKENS).contains(&self.max_tokens) {
            return Err(GenerationInputError::MaxTokens(self.max_tokens));
        }
        if !(1..=MAX_TOP_K).contains(&self.top_k) {
            return Err(GenerationInputError::TopK(self.top_k));
        }
        if self.temperature_milli > MAX_TEMPERATURE_MILLI {
            return Err(GenerationInputError::Temperature(self.temperature_milli));
        }
        Ok(())
    }

    /// The job input: this request as JSON (what the input hash covers).
    pub fn to_input(&self) -> String {
        serde_json::to_string(self).expect("a struct of strings and integers serializes")
    }

    pub fn is_greedy(&self) -> bool {
        self.top_k == 1 || self.temperature_milli == 0
    }
}

/// The seed of a node's sampling stream and probe positions for one job:
/// sha256("VERDICT-SAMPLING-V1" ‖ job id ‖ miner key).
pub fn sampling_seed(job_id: &[u8; 32], miner_key: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(SAMPLING_DOMAIN)
        .chain_update(job_id)
        .chain_update(miner_key)
        .finalize()
        .into()
}

/// Draw number `step` of the stream `seed`: u64_le(sha256(seed ‖ u32_le step)[..8]).
pub fn draw(seed: &[u8; 32], step: u32) -> u64 {
    let digest = Sha256::new()
        .chain_update(seed)
        .chain_update(step.to_le_bytes())
        .finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(word)
}

/// Rounds logits to the sampling grid; a non-finite logit can never be drawn.
pub fn round_logits(logits: &[f32]) -> Vec<i64> {
    logits
        .iter()
        .map(|&logit| {
            if logit.is_finite() {
                (f64::from(logit) * f64::from(LOGIT_SCALE)).round() as i64
            } else {
                i64::MIN
            }
        })
        .collect()
}

/// Picks step `step`'s token from rounded logits by the module's rule.
/// Returns `None` only for an empty vocabulary.
pub fn sample(
    rounded: &[i64],
    params: &GenerationInput,
    seed: &[u8; 32],
    step: u32,
) -> Option<u32> {
    // Candidates: (logit desc, id asc), the first K.
    let k = if params.is_greedy() {
        1
    } else {
        params.top_k as usize
    };
    let mut order: Vec<u32> = (0..rounded.len() as u32).collect();
    let by_rank = |a: &u32, b: &u32| {
        rounded[*b as usize]
            .cmp(&rounded[*a as usize])
            .then(a.cmp(b))
    };
    if k < order.len() {
        order.select_nth_unstable_by(k, by_rank);
        order.truncate(k);
    }
    order.sort_unstable_by(by_rank);
    let best = *order.first()?;
    if k == 1 {
        return Some(best);
    }
    let top = rounded[best as usize];
    // (l - l_max) / T with l in 1/LOGIT_SCALE units and T in thousandths.
    let scale = f64::from(params.temperature_milli) * f64::from(LOGIT_SCALE) / 1_000.0;
    let weights: Vec<u64> = order
        .iter()
        .map(|&id| {
            let gap = rounded[id as usize].saturating_sub(top) as f64 / scale;
            (gap.exp() * WEIGHT_ONE).round() as u64
        })
        .collect();
    let total: u64 = weights.iter().sum();
    let mut pick = draw(seed, step) % total.max(1);
    for (&id, &weight) in order.iter().zip(&weights) {
        if pick < weight {
            return Some(id);
        }
        pick -= weight;
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_round_trips_and_is_checked() {
        let input = GenerationInput::new("Say hi");
        assert_eq!(GenerationInput::parse(&input.to_input()).unwrap(), input);
        assert!(matches!(
            GenerationInput::parse("hello"),
            Err(GenerationInputError::NotJson(_))
        ));
        let mut long = input.clone();
        long.max_tokens = MAX_NEW_TOKENS + 1;
        assert_eq!(
            GenerationInput::parse(&long.to_input()),
            Err(GenerationInputError::MaxTokens(MAX_NEW_TOKENS + 1))
        );
        let mut k0 = input.clone();
        k0.top_k = 0;
        assert_eq!(k0.check(), Err(GenerationInputError::TopK(0)));
        let extra = r#"{"prompt":"a","max_tokens":1,"top_k":1,"temperature_milli":0,"x":1}"#;
        assert!(GenerationInput::parse(extra).is_err());
        assert_eq!(
            GenerationInput::greedy(" ", 4).check(),
            Err(GenerationInputError::EmptyPrompt)
        );
    }

    #[test]
    fn greedy_takes_the_largest_and_the_lower_id_on_ties() {
        let params = GenerationInput::greedy("x", 1);
        assert_eq!(sample(&[1, 5, 5, 2], &params, &[0; 32], 0), Some(1));
        assert_eq!(sample(&[], &params, &[0; 32], 0), None);
    }

    #[test]
    fn sampling_is_fixed_by_the_seed_and_stays_in_the_top_k() {
        let logits = round_logits(&[0.5, 3.0, 2.9, 2.8, -1.0, f32::NAN]);
        assert_eq!(logits[5], i64::MIN);
        let params = GenerationInput {
            prompt: "x".into(),
            max_tokens: 8,
            top_k: 3,
            temperature_milli: 1_000,
        };
        let seed = sampling_seed(&[1; 32], &[2; 32]);
        let picks: Vec<u32> = (0..64)
            .map(|step| sample(&logits, &params, &seed, step).unwrap())
            .collect();
        assert!(picks.iter().all(|id| (1..=3).contains(id)));
        // All three candidates come up over 64 draws at T = 1.
        for id in 1..=3 {
            assert!(picks.contains(&id));
        }
        let again: Vec<u32> = (0..64)
            .map(|step| sample(&logits, &params, &seed, step).unwrap())
            .collect();
        assert_eq!(picks, again);
        let other_seed = sampling_seed(&[1; 32], &[3; 32]);
        let other: Vec<u32> = (0..64)
            .map(|step| sample(&logits, &params, &other_seed, step).unwrap())
            .collect();
        assert_ne!(picks, other);
    }
}
