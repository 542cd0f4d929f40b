//! Verdict's model execution, shared by the reference miner and the
//! keepers' reference runs: the models a miner can serve, chosen by model
//! id ([`minilm`], [`smollm`], the tiny [`projection`]), a registry that
//! loads each one on first use and, on a miner with room for fewer models
//! than it serves, unloads the least recently used to make room, and the
//! [`probes`] an answer carries from its hidden states.

pub mod minilm;
pub mod probes;
pub mod projection;
pub mod smollm;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use verdict_wire::miner::{ModelId, ModelInfo};

pub use verdict_wire::models::{
    is_generative, spec, ModelSpec, MINILM_ID, SMOLLM2_ID, TEST_PROJECTION_ID,
};

/// Env var naming the model cache root (or a model's folder itself).
pub const MODEL_DIR_ENV: &str = "VERDICT_MODEL_DIR";

/// How deep below the cache root to look for a model's files: the pip
/// installs put them at `<root>/<package>/<module>/[model/]`.
pub(crate) const SEARCH_DEPTH: usize = 5;

/// The cache root: `$VERDICT_MODEL_DIR`, else `$HOME/.cache/verdict/models`
/// (the same default as scripts/fetch-model.sh).
pub fn model_cache_root() -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            home.join(".cache").join("verdict").join("models")
        }
    }
}

/// The first folder at or below `dir` (depth-first, children sorted by
/// name, dot folders skipped) for which `holds` is true.
pub(crate) fn find_dir(
    dir: &Path,
    depth_left: usize,
    holds: &dyn Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if holds(dir) {
        return Some(dir.to_path_buf());
    }
    if depth_left == 0 {
        return None;
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false))
        .map(|entry| entry.path())
        // Skip fetch-model.sh's half-written staging folders.
        .filter(|path| {
            !path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with('.'))
        })
        .collect();
    // Sorted so that the folder chosen never depends on directory order.
    children.sort();
    children
        .into_iter()
        .find_map(|child| find_dir(&child, depth_left - 1, holds))
}

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
    #[error("unknown model {0:?}; this miner knows {MINILM_ID:?}, {SMOLLM2_ID:?} and {TEST_PROJECTION_ID:?}")]
    Unknown(String),
    #[error(
        "model files for {model} not found under {searched} (need {need}): run `bash scripts/fetch-model.sh`, \
         or point VERDICT_MODEL_DIR at the files"
    )]
    FilesMissing {
        model: &'static str,
        searched: String,
        need: &'static str,
    },
    #[error("{0} is a generative model: it has no embedding; use miner::answer::compute")]
    NotAnEmbedding(String),
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
    SmolLm2,
}

impl ModelKind {
    pub fn from_id(id: &str) -> Result<Self, ModelError> {
        match id {
            MINILM_ID => Ok(ModelKind::MiniLm),
            TEST_PROJECTION_ID => Ok(ModelKind::TestProjection),
            SMOLLM2_ID => Ok(ModelKind::SmolLm2),
            other => Err(ModelError::Unknown(other.to_owned())),
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            ModelKind::MiniLm => MINILM_ID,
            ModelKind::TestProjection => TEST_PROJECTION_ID,
            ModelKind::SmolLm2 => SMOLLM2_ID,
        }
    }

    /// The network's description of this model (`verdict_wire::models`).
    pub fn spec(self) -> &'static ModelSpec {
        spec(self.id()).expect("every kind is in the wire's models table")
    }

    /// The embedding's length; for a generative model, its vocabulary size
    /// (as [`ModelSpec::output_dim`]; its output's shape is `[tokens]`).
    pub fn output_dim(self) -> u32 {
        self.spec().output_dim()
    }

    pub fn is_generative(self) -> bool {
        self.spec().is_generative()
    }
}

/// A model ready to run. Running is synchronous and CPU-bound: async callers
/// should use `spawn_blocking`.
/// To answer a job with one, use [`verdict_models_answer_MISSING::compute`].
pub enum LoadedModel {
    MiniLm(Box<minilm::MiniLm>),
    TestProjection(projection::TestProjection),
    SmolLm2(Box<smollm::SmolLm2>),
}

impl LoadedModel {
    /// An embedding model's forward pass; a generative model has none
    /// ([`ModelError::NotAnEmbedding`]).
    pub fn run(&self, input: &str) -> Result<ModelOutput, ModelError> {
        match self {
            LoadedModel::MiniLm(model) => model.run(input),
            LoadedModel::TestProjection(model) => Ok(model.run(input)),
            LoadedModel::SmolLm2(_) => Err(ModelError::NotAnEmbedding(SMOLLM2_ID.to_owned())),
        }
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            LoadedModel::MiniLm(_) => ModelKind::MiniLm,
            LoadedModel::TestProjection(_) => ModelKind::TestProjection,
            LoadedModel::SmolLm2(_) => ModelKind::SmolLm2,
        }
    }

    /// The generative model, if this is one.
    pub fn as_smollm2(&self) -> Option<&smollm::SmolLm2> {
        match self {
            LoadedModel::SmolLm2(model) => Some(model),
            _ => None,
        }
    }
}

/// Where a declared model comes from, resolved when the miner starts so a
/// missing download fails at startup rather than on the first job.
#[derive(Debug, Clone)]
enum ModelSource {
    MiniLmFiles(PathBuf),
    TestProjection,
    SmolLm2File(PathBuf),
}

impl ModelSource {
    fn resolve(kind: ModelKind) -> Result<Self, ModelError> {
        match kind {
            ModelKind::MiniLm => minilm::locate_model_dir().map(ModelSource::MiniLmFiles),
            ModelKind::TestProjection => Ok(ModelSource::TestProjection),
            ModelKind::SmolLm2 => smollm::locate_model_file().map(ModelSource::SmolLm2File),
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
            ModelSource::SmolLm2File(path) => {
                Ok(LoadedModel::SmolLm2(Box::new(smollm::SmolLm2::load(path)?)))
            }
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
                task: entry.kind.spec().task_name().to_owned(),
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
