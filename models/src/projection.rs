//! test-projection-v1: a tiny deterministic stand-in model (a fixed pseudo-random projection of the input bytes) for fast tests and benchmarks.
//!
//! Token sequence: a start token (256) followed by the input's bytes. Each
//! token's hidden row is `TOKEN_TABLE[token] + POSITION_TABLE[position % 64]`;
//! the output is the L2-normalized mean of the rows, like a real embedding
//! model. Both tables come from splitmix64 with fixed seeds, so every build
//! on every machine computes the same numbers.

use super::{HiddenStates, ModelOutput};

pub const EMBEDDING_DIM: usize = 16;

const START_TOKEN: usize = 256;
const VOCAB: usize = 257;
const POSITIONS: usize = 64;
const TOKEN_TABLE_SEED: u64 = 0x5645_5244_4943_5401; // "VERDICT" + 1
const POSITION_TABLE_SEED: u64 = 0x5645_5244_4943_5402;

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `count` values uniform in [-scale, scale), exactly representable in f32.
fn table(seed: u64, count: usize, scale: f32) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            // 24 bits fit the f32 mantissa, so the conversion is exact.
            let unit = (splitmix64(&mut state) >> 40) as f32 / (1u32 << 24) as f32;
            (unit * 2.0 - 1.0) * scale
        })
        .collect()
}

pub struct TestProjection {
    token_table: Vec<f32>,
    position_table: Vec<f32>,
}

impl Default for TestProjection {
    fn default() -> Self {
        Self::new()
    }
}

impl TestProjection {
    pub fn new() -> Self {
        TestProjection {
            token_table: table(TOKEN_TABLE_SEED, VOCAB * EMBEDDING_DIM, 1.0),
            position_table: table(POSITION_TABLE_SEED, POSITIONS * EMBEDDING_DIM, 0.25),
        }
    }

    pub fn run(&self, input: &str) -> ModelOutput {
        let tokens: Vec<usize> = std::iter::once(START_TOKEN)
            .chain(input.bytes().map(usize::from))
            .collect();
        let mut hidden = Vec::with_capacity(tokens.len() * EMBEDDING_DIM);
        let mut sum = [0f64; EMBEDDING_DIM];
        for (position, &token) in tokens.iter().enumerate() {
            let token_row = &self.token_table[token * EMBEDDING_DIM..][..EMBEDDING_DIM];
            let position_row =
                &self.position_table[(position % POSITIONS) * EMBEDDING_DIM..][..EMBEDDING_DIM];
            for dim in 0..EMBEDDING_DIM {
                let value = token_row[dim] + position_row[dim];
                hidden.push(value);
                sum[dim] += f64::from(value);
            }
        }
        let count = tokens.len() as f64;
        let mean: Vec<f64> = sum.iter().map(|total| total / count).collect();
        let norm = mean
            .iter()
            .map(|value| value * value)
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        ModelOutput {
            embedding: mean.iter().map(|value| (value / norm) as f32).collect(),
            hidden: HiddenStates {
                tokens: tokens.len(),
                width: EMBEDDING_DIM,
                values: hidden,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_unit_length_deterministic_and_input_dependent() {
        let model = TestProjection::new();
        let first = model.run("hello");
        assert_eq!(first, TestProjection::new().run("hello"));
        assert_eq!(first.embedding.len(), EMBEDDING_DIM);
        assert_eq!(first.hidden.tokens, 6);
        let norm: f32 = first.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert_ne!(first.embedding, model.run("hellp").embedding);
        assert_eq!(model.run("").hidden.tokens, 1);
    }
}
