//! The models a miner can serve, chosen by model id, and a registry that loads
//! each one on first use and, on a miner with room for fewer models than it
//! serves, unloads the least recently used to make room.

pub mod minilm;
pub mod projection;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// The model while it is in memory. The lock is held while it loads, so
    /// concurrent first requests wait for one load instead of starting several.
    slot: tokio::sync::Mutex<Option<Arc<LoadedModel>>>,
}

/// The models one miner declares, each loaded on its first request and kept
/// in memory — at most `resident_limit` of them at once: loading one more
/// unloads the least recently used, whose next request loads it again (the
/// seed's "hot models": a miner serving more models than its memory holds
/// pays a load on every switch).
pub struct ModelRegistry {
    entries: BTreeMap<ModelId, Entry>,
    resident_limit: usize,
    /// Models in memory, least recently used first.
    recency: Mutex<VecDeque<ModelId>>,
}

impl ModelRegistry {
    /// Checks every id is known and its files are present; loads nothing yet.
    /// Every model may stay in memory (see [`ModelRegistry::resident_limit`]).
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
                    slot: tokio::sync::Mutex::new(None),
                },
            );
        }
        let resident_limit = entries.len().max(1);
        Ok(ModelRegistry {
            entries,
            resident_limit,
            recency: Mutex::new(VecDeque::new()),
        })
    }

    /// Keeps at most `limit` models in memory (at least one).
    pub fn resident_limit(mut self, limit: usize) -> Self {
        self.resident_limit = limit.max(1);
        self
    }

    pub fn ids(&self) -> Vec<ModelId> {
        self.entries.keys().cloned().collect()
    }

    pub fn serves(&self, id: &ModelId) -> bool {
        self.entries.contains_key(id)
    }

    pub fn info(&self) -> Vec<ModelInfo> {
        let resident = self.resident();
        self.entries
            .iter()
            .map(|(id, entry)| ModelInfo {
                id: id.clone(),
                task: "sentence-embedding".to_owned(),
                output_dim: entry.kind.output_dim(),
                loaded: resident.contains(id),
            })
            .collect()
    }

    /// The models in memory now, least recently used first.
    pub fn resident(&self) -> Vec<ModelId> {
        self.recency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The model, loading it if it is not in memory, and how long this
    /// caller waited for it: the load when it was cold, else about zero.
    pub async fn ready(&self, id: &ModelId) -> Result<(Arc<LoadedModel>, Duration), ModelError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| ModelError::Unknown(id.to_string()))?;
        let started = Instant::now();
        let mut slot = entry.slot.lock().await;
        let model = match slot.as_ref() {
            Some(model) => Arc::clone(model),
            None => {
                let source = entry.source.clone();
                let model = tokio::task::spawn_blocking(move || source.load())
                    .await
                    .map_err(|join_error| ModelError::LoadInterrupted(join_error.to_string()))??;
                tracing::info!(model = %id, load_ms = started.elapsed().as_millis() as u64, "model loaded");
                let model = Arc::new(model);
                *slot = Some(Arc::clone(&model));
                model
            }
        };
        // Marked used while its slot is held, so no other request can unload
        // it between the check above and this mark.
        let over_limit = self.touch(id);
        drop(slot);
        for evicted in over_limit {
            // A request running on the evicted model keeps its own Arc; the
            // memory goes when it finishes. A model whose slot another request
            // holds is in use: it stays, listed as least recently used.
            if let Ok(mut other) = self.entries[&evicted].slot.try_lock() {
                *other = None;
                tracing::info!(model = %evicted, "model unloaded to make room");
            } else {
                let mut recency = self.recency.lock().unwrap_or_else(|p| p.into_inner());
                if !recency.contains(&evicted) {
                    recency.push_front(evicted);
                }
            }
        }
        Ok((model, started.elapsed()))
    }

    /// Marks `id` most recently used; returns the models over the limit.
    fn touch(&self, id: &ModelId) -> Vec<ModelId> {
        let mut recency = self.recency.lock().unwrap_or_else(|p| p.into_inner());
        recency.retain(|resident| resident != id);
        recency.push_back(id.clone());
        let over = recency.len().saturating_sub(self.resident_limit);
        recency.drain(..over).collect()
    }
}
