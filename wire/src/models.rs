//! The models the network knows, by id, with what a party that does not run
//! them (a keeper validating an answer's shape, a client building a request)
//! needs to know of each.

/// all-MiniLM-L6-v2 sentence embeddings (384 dims), the real embedding model.
pub const MINILM_ID: &str = "all-minilm-l6-v2";
/// A fixed pseudo-random projection of the input bytes (16 dims), for fast tests.
pub const TEST_PROJECTION_ID: &str = "test-projection-v1";
/// SmolLM2-135M-Instruct, Q4_1 GGUF: text generation with seeded TopK sampling.
pub const SMOLLM2_ID: &str = "smollm2-135m-instruct-q4";

/// What a model's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// One L2-normalized vector of `dim` values per input.
    Embedding { dim: u32 },
    /// Generated token ids (and their text) for a
    /// [`crate::generation::GenerationInput`].
    Generation(GenerativeShape),
}

/// The dimensions of a generative model that bound a valid answer: token ids
/// below `vocab`, probes at layers below `layers`, dims below `width`,
/// positions below `context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerativeShape {
    pub vocab: u32,
    pub layers: u32,
    pub width: u32,
    pub context: u32,
}

/// One model the network knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    pub id: &'static str,
    pub task: Task,
}

impl ModelSpec {
    /// The task name `GET /models` reports.
    pub fn task_name(&self) -> &'static str {
        match self.task {
            Task::Embedding { .. } => "sentence-embedding",
            Task::Generation(_) => "text-generation",
        }
    }

    pub fn is_generative(&self) -> bool {
        matches!(self.task, Task::Generation(_))
    }

    /// Output length for embeddings; the vocabulary size for generation.
    pub fn output_dim(&self) -> u32 {
        match self.task {
            Task::Embedding { dim } => dim,
            Task::Generation(shape) => shape.vocab,
        }
    }
}

/// SmolLM2-135M's dimensions, as its GGUF metadata states them.
pub const SMOLLM2_SHAPE: GenerativeShape = GenerativeShape {
    vocab: 49_152,
    layers: 30,
    width: 576,
    context: 8_192,
};

/// Every model the network knows.
pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: MINILM_ID,
        task: Task::Embedding { dim: 384 },
    },
    ModelSpec {
        id: TEST_PROJECTION_ID,
        task: Task::Embedding { dim: 16 },
    },
    ModelSpec {
        id: SMOLLM2_ID,
        task: Task::Generation(SMOLLM2_SHAPE),
    },
];

/// The spec of a known model id.
pub fn spec(id: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|model| model.id == id)
}

/// Whether `id` names a known generative model.
pub fn is_generative(id: &str) -> bool {
    spec(id).is_some_and(ModelSpec::is_generative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_fits_the_chain_and_is_found() {
        for model in MODELS {
            assert!(model.id.len() <= crate::miner::MAX_MODEL_ID_LEN);
            assert_eq!(spec(model.id), Some(model));
        }
        assert!(spec(SMOLLM2_ID).unwrap().is_generative());
        assert!(is_generative(SMOLLM2_ID) && !is_generative(MINILM_ID) && !is_generative("nope"));
        assert_eq!(spec(MINILM_ID).unwrap().output_dim(), 384);
        assert_eq!(spec("nope"), None);
    }
}
