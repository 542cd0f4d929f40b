//! The models a miner can serve, chosen by model id, and a registry that loads each one on first use.

pub mod minilm;
pub mod projection;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::api::{ModelId, ModelInfo};

/// all-MiniLM-L6-v2 sentence embeddings (384 dims), the real model.
pub const MINILM_ID: &str = "all-minilm-l6-v2";
/// A fixed pseudo-random projection of the input bytes (16 dims), for fast tests.
pub const TEST_PROJECTION_ID: &str = "test-projection-v1";

/// Pre-pooling activations, row-major `tokens × width`: the values probes sample.
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenStates {
    pub tokens: usize,
    pub width: usize,
    pub values: Vec<f32>,
}

impl HiddenStates {
    pub fn value(&self, token: usize, dim: usize) -> f32 {
        self.values[token * self.width + dim]
    }
}

/// What one forward pass produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutput {
    /// The pooled, L2-normalized embedding.
    pub embedding: Vec<f32>,
    pub hidden: HiddenStates,
}

/// Why a model could not be found, loaded or run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model {0:?}; this miner knows {MINILM_ID:?} and {TEST_PROJECTION_ID:?}")]
    Unknown(String),
    #[error(
        "model files for {MINILM_ID} not found under {searched} (need a folder holding model.safetensors and \
         tokenizer.json): run `bash scripts/fetch-model.sh`, or point VERDICT_MODEL_DIR at the files"
    )]
    FilesMissing { searched: String },
    #[error("could not load {model} from {path}: {reason}")]
    Load {
        model: String,
        path: String,
        reason: String,
    },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("model loading was interrupted: {0}")]
    LoadInterrupted(String),
}

/// Which implementation a model id selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    MiniLm,
    TestProjection,
}

impl ModelKind {
    pub fn from_id(id: &str) -> Result<Self, ModelError> {
        match id {
            MINILM_ID => Ok(ModelKind::MiniLm),
            TEST_PROJECTION_ID => Ok(ModelKind::TestProjection),
            other => Err(ModelError::Unknown(other.to_owned())),
        }
    }

    pub fn output_dim(self) -> u32 {
        match self {
            ModelKind::MiniLm => minilm::EMBEDDING_DIM as u32,
            ModelKind::TestProjection => projection::EMBEDDING_DIM as u32,
        }
    }
}

/// A model ready to run. Running is synchronous and CPU-bound: async callers
/// should use `spawn_blocking`.
pub enum LoadedModel {
    MiniLm(Box<minilm::MiniLm>),
    TestProjection(projection::TestProjection),
}

impl LoadedModel {
    pub fn run(&self, input: &str) -> Result<ModelOutput, ModelError> {
        match self {
            LoadedModel::MiniLm(model) => model.run(input),
            LoadedModel::TestProjection(model) => Ok(model.run(input)),
        }
    }
}

/// Where a declared model comes from, resolved when the miner starts so a
/// missing download fails at startup rather than on the first job.
#[derive(Debug, Clone)]
enum ModelSource {
    MiniLmFiles(PathBuf),
    TestProjection,
}

impl ModelSource {
    fn resolve(kind: ModelKind) -> Result<Self, ModelError> {
        match kind {
            ModelKind::MiniLm => minilm::locate_model_dir().map(ModelSource::MiniLmFiles),
            ModelKind::TestProjection => Ok(ModelSource::TestProjection),
        }
    }

    fn load(&self) -> Result<LoadedModel, ModelError> {
        match self {
            ModelSource::MiniLmFiles(dir) => {
                Ok(LoadedModel::MiniLm(Box::new(minilm::MiniLm::load(dir)?)))
            }
            ModelSource::TestProjection => Ok(LoadedModel::TestProjection(
                projection::TestProjection::new(),
            )),
        }
    }
}

struct Entry {
    kind: ModelKind,
    source: ModelSource,
    loaded: OnceCell<Arc<LoadedModel>>,
}

/// The models one miner declares, each loaded once, on its first request.
pub struct ModelRegistry {
    entries: BTreeMap<ModelId, Entry>,
}

impl ModelRegistry {
    /// Checks every id is known and its files are present; loads nothing yet.
    pub fn new(ids: &[ModelId]) -> Result<Self, ModelError> {
        let mut entries = BTreeMap::new();
        for id in ids {
            let kind = ModelKind::from_id(id.as_str())?;
            let source = ModelSource::resolve(kind)?;
            entries.insert(
                id.clone(),
                Entry {
                    kind,
                    source,
                    loaded: OnceCell::new(),
                },
            );
        }
        Ok(ModelRegistry { entries })
    }

    pub fn ids(&self) -> Vec<ModelId> {
        self.entries.keys().cloned().collect()
    }

    pub fn serves(&self, id: &ModelId) -> bool {
        self.entries.contains_key(id)
    }

    pub fn info(&self) -> Vec<ModelInfo> {
        self.entries
            .iter()
            .map(|(id, entry)| ModelInfo {
                id: id.clone(),
                task: "sentence-embedding".to_owned(),
                output_dim: entry.kind.output_dim(),
                loaded: entry.loaded.initialized(),
            })
            .collect()
    }

    /// The model, loading it if this is its first use, and how long this
    /// caller waited for it: the cold load once, then about zero.
    pub async fn ready(&self, id: &ModelId) -> Result<(Arc<LoadedModel>, Duration), ModelError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| ModelError::Unknown(id.to_string()))?;
        let started = Instant::now();
        let model = entry
            .loaded
            .get_or_try_init(|| async {
                let source = entry.source.clone();
                let model_name = id.to_string();
                let loaded_at = Instant::now();
                let model = tokio::task::spawn_blocking(move || source.load())
                    .await
                    .map_err(|join_error| ModelError::LoadInterrupted(join_error.to_string()))??;
                tracing::info!(model = %model_name, load_ms = loaded_at.elapsed().as_millis() as u64, "model loaded");
                Ok::<_, ModelError>(Arc::new(model))
            })
            .await?;
        Ok((Arc::clone(model), started.elapsed()))
    }
}
