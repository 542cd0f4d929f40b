//! all-MiniLM-L6-v2 on CPU with candle: BERT forward pass, attention-masked mean pooling and L2 normalization, as sentence-transformers does.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

use super::{find_dir, HiddenStates, ModelError, ModelOutput, MINILM_ID, SEARCH_DEPTH};
pub use super::{model_cache_root, MODEL_DIR_ENV};

pub const EMBEDDING_DIM: usize = 384;

/// sentence-transformers' `max_seq_length` for this model (the bundled
/// tokenizer.json says 128 and pads to it; sentence-transformers overrides
/// both, and so do we, so outputs match its `encode`).
pub const MAX_SEQ_LEN: usize = 256;

const WEIGHTS_FILE: &str = "model.safetensors";
const TOKENIZER_FILE: &str = "tokenizer.json";
const CONFIG_FILE: &str = "config.json";

/// Finds the folder holding the MiniLM weights and tokenizer under the cache root.
pub fn locate_model_dir() -> Result<PathBuf, ModelError> {
    let root = model_cache_root();
    find_dir(&root, SEARCH_DEPTH, &holds_model).ok_or_else(|| ModelError::FilesMissing {
        model: MINILM_ID,
        searched: root.display().to_string(),
        need: "a folder holding model.safetensors and tokenizer.json",
    })
}

fn holds_model(dir: &Path) -> bool {
    dir.join(WEIGHTS_FILE).is_file() && dir.join(TOKENIZER_FILE).is_file()
}

/// The loaded model and its tokenizer.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl MiniLm {
    /// Reads config, tokenizer and weights from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let load_error = |path: &Path, reason: String| ModelError::Load {
            model: MINILM_ID.to_owned(),
            path: path.display().to_string(),
            reason,
        };
        let device = Device::Cpu;

        let config_path = dir.join(CONFIG_FILE);
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|error| load_error(&config_path, error.to_string()))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|error| load_error(&config_path, error.to_string()))?;

        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|error| load_error(&tokenizer_path, error.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_SEQ_LEN,
                ..TruncationParams::default()
            }))
            .map_err(|error| load_error(&tokenizer_path, error.to_string()))?;
        // One text per request, so no padding: every token is real.
        tokenizer.with_padding(None);

        let weights_path = dir.join(WEIGHTS_FILE);
        // Read into memory rather than mmap: no `unsafe`, and the reported
        // load time includes the real cost of bringing the weights in.
        let weights = std::fs::read(&weights_path)
            .map_err(|error| load_error(&weights_path, error.to_string()))?;
        let vars = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|error| load_error(&weights_path, error.to_string()))?;
        let model = BertModel::load(vars, &config)
            .map_err(|error| load_error(&weights_path, error.to_string()))?;

        Ok(MiniLm {
            model,
            tokenizer,
            device,
        })
    }

    /// Embeds one text.
    pub fn run(&self, text: &str) -> Result<ModelOutput, ModelError> {
        let inference = |error: candle_core::Error| ModelError::Inference(error.to_string());
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|error| ModelError::Inference(error.to_string()))?;
        let tokens = encoding.get_ids().len();

        let input_ids = Tensor::new(encoding.get_ids(), &self.device)
            .and_then(|ids| ids.unsqueeze(0))
            .map_err(inference)?;
        let token_type_ids = Tensor::new(encoding.get_type_ids(), &self.device)
            .and_then(|ids| ids.unsqueeze(0))
            .map_err(inference)?;
        let attention_mask = Tensor::new(encoding.get_attention_mask(), &self.device)
            .and_then(|mask| mask.unsqueeze(0))
            .map_err(inference)?;

        // [1, tokens, 384]
        let hidden = self
            .model
            .forward(&input_ids, &token_type_ids, Some(&attention_mask))
            .map_err(inference)?;

        // Mean over the tokens the attention mask keeps, then unit length,
        // exactly sentence-transformers' Pooling(mean) + Normalize modules.
        let mask = attention_mask
            .to_dtype(DType::F32)
            .and_then(|mask| mask.unsqueeze(2))
            .map_err(inference)?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|masked| masked.sum(1))
            .map_err(inference)?;
        let counted = mask
            .sum(1)
            .and_then(|count| count.clamp(1e-9f32, f32::MAX))
            .map_err(inference)?;
        let mean = summed.broadcast_div(&counted).map_err(inference)?;
        let norm = mean
            .sqr()
            .and_then(|squares| squares.sum_keepdim(1))
            .and_then(|sum| sum.sqrt())
            .and_then(|norm| norm.clamp(1e-12f32, f32::MAX))
            .map_err(inference)?;
        let embedding = mean
            .broadcast_div(&norm)
            .and_then(|unit| unit.squeeze(0))
            .and_then(|unit| unit.to_vec1::<f32>())
            .map_err(inference)?;

        let hidden_values = hidden
            .squeeze(0)
            .and_then(|rows| rows.flatten_all())
            .and_then(|flat| flat.to_vec1::<f32>())
            .map_err(inference)?;
        Ok(ModelOutput {
            embedding,
            hidden: HiddenStates {
                tokens,
                width: EMBEDDING_DIM,
                values: hidden_values,
            },
        })
    }
}
