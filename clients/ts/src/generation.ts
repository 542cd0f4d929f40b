// Text generation jobs: the request a generative job's input is, built to
// the exact bytes Rust's `wire::generation::GenerationInput::to_input()`
// produces (the input hash on chain covers them), and the bounds every node
// checks.
import { utf8 } from './bytes';
import { isWellFormedText } from './tensor';

/** SmolLM2-135M-Instruct (Q4): the network's generative model. */
export const SMOLLM2_ID = 'smollm2-135m-instruct-q4';
/** Its vocabulary: every token id of an answer is below it. */
export const SMOLLM2_VOCAB = 49_152;
/** Longest prompt, in UTF-8 bytes. */
export const MAX_PROMPT_BYTES = 2_048;
/** Most tokens a job may ask for. */
export const MAX_NEW_TOKENS = 256;
/** Tokens generated when a client does not say. */
export const DEFAULT_NEW_TOKENS = 48;
/** Largest K. */
export const MAX_TOP_K = 200;
/** Hottest temperature, in thousandths. */
export const MAX_TEMPERATURE_MILLI = 2_000;
/** Default sampling: the top 40 at 0.7. */
export const DEFAULT_TOP_K = 40;
export const DEFAULT_TEMPERATURE_MILLI = 700;

/** The generative models the client knows, with their vocabulary size. */
export const GENERATIVE_MODELS: Readonly<Record<string, { vocab: number }>> = {
  [SMOLLM2_ID]: { vocab: SMOLLM2_VOCAB },
};

/** The embedding models the client knows. */
export const EMBEDDING_MODELS: readonly string[] = ['all-minilm-l6-v2', 'test-projection-v1'];

/** Whether `model` is a generative model the client knows. */
export function isGenerativeModel(model: string): boolean {
  return Object.prototype.hasOwnProperty.call(GENERATIVE_MODELS, model);
}

/** What a generation asks for (the Rust struct's fields, camel-cased). */
export type GenerationParams = {
  /** The user's message; the model sees it inside its chat template. */
  prompt: string;
  /** Most tokens to generate, 1 to 256 (default 48). */
  maxTokens?: number;
  /** Sample among the K most likely tokens, 1 to 200; 1 is greedy (default 40). */
  topK?: number;
  /** Temperature in thousandths, 0 to 2000 (700 = 0.7); 0 is greedy (default 700). */
  temperatureMilli?: number;
};

/** Why a generation request is refused, as Rust's `GenerationInputError` names it. */
export type GenerationInputReason =
  | 'not_json'
  | 'empty_prompt'
  | 'prompt_too_long'
  | 'max_tokens'
  | 'top_k'
  | 'temperature'
  /** A lone UTF-16 surrogate: no Rust string (hence no node) can hold it. */
  | 'malformed_prompt';

/** A generation request out of bounds, refused before anything is sent. */
export class GenerationInputError extends Error {
  readonly reason: GenerationInputReason;

  constructor(reason: GenerationInputReason, message: string) {
    super(message);
    this.name = 'GenerationInputError';
    this.reason = reason;
  }
}

/** Rust's `char::is_whitespace` (Unicode White_Space), which `str::trim` uses; unlike JS's trim, U+0085 is and U+FEFF is not. */
const RUST_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (!RUST_WHITESPACE.has(text.charCodeAt(i))) {
      return false;
    }
  }
  return true;
}

function checkCount(value: number, min: number, max: number, reason: GenerationInputReason, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GenerationInputError(reason, `${name} must be ${min} to ${max}, got ${value}`);
  }
}

/** Throws a GenerationInputError when `params` (defaults filled in) is out of the bounds every node checks. */
export function checkGeneration(params: Required<GenerationParams>): void {
  if (!isWellFormedText(params.prompt)) {
    throw new GenerationInputError('malformed_prompt', 'the prompt has a lone UTF-16 surrogate');
  }
  if (isBlank(params.prompt)) {
    throw new GenerationInputError('empty_prompt', 'the prompt is empty');
  }
  const bytes = utf8(params.prompt).length;
  if (bytes > MAX_PROMPT_BYTES) {
    throw new GenerationInputError('prompt_too_long', `the prompt is ${bytes} bytes; at most ${MAX_PROMPT_BYTES}`);
  }
  checkCount(params.maxTokens, 1, MAX_NEW_TOKENS, 'max_tokens', 'max_tokens');
  checkCount(params.topK, 1, MAX_TOP_K, 'top_k', 'top_k');
  checkCount(params.temperatureMilli, 0, MAX_TEMPERATURE_MILLI, 'temperature', 'temperature_milli');
}

/**
 * A generative job's input: the request as JSON, byte for byte what Rust's
 * `GenerationInput::to_input()` (serde_json) writes, fields in the order
 * prompt, max_tokens, top_k, temperature_milli. Pass it as the job's
 * `input`. Throws a GenerationInputError for a request out of bounds.
 *
 * On escaping: for a well-formed string, JSON.stringify and serde_json
 * agree exactly — both escape `"` and `\`, write \b \f \n \r \t, every other
 * control character below U+0020 as \u00xx in lowercase hex, and leave
 * everything else (DEL, U+2028/U+2029, `/`, `<`, non-ASCII, emoji) as raw
 * UTF-8. They differ only on lone surrogates, which JSON.stringify writes
 * as \udxxx and no Rust string can hold: those are refused here
 * ('malformed_prompt'), as a node would refuse the job.
 */
export function generationInput(params: GenerationParams): string {
  const full: Required<GenerationParams> = {
    prompt: params.prompt,
    maxTokens: params.maxTokens ?? DEFAULT_NEW_TOKENS,
    topK: params.topK ?? DEFAULT_TOP_K,
    temperatureMilli: params.temperatureMilli ?? DEFAULT_TEMPERATURE_MILLI,
  };
  checkGeneration(full);
  return (
    `{"prompt":${JSON.stringify(full.prompt)},"max_tokens":${full.maxTokens},` +
    `"top_k":${full.topK},"temperature_milli":${full.temperatureMilli}}`
  );
}

/** Greedy decoding (top-k 1, temperature 0): the same tokens from every miner. */
export function greedyGenerationInput(prompt: string, maxTokens: number): string {
  return generationInput({ prompt, maxTokens, topK: 1, temperatureMilli: 0 });
}

/**
 * A job input parsed back as a generation request and checked, as a node
 * parses it (exactly the four fields). Throws a GenerationInputError.
 */
export function parseGenerationInput(input: string): Required<GenerationParams> {
  let body: unknown;
  try {
    body = JSON.parse(input);
  } catch (e) {
    throw new GenerationInputError('not_json', `a generative job's input must be a JSON object: ${String(e)}`);
  }
  const fields = ['prompt', 'max_tokens', 'top_k', 'temperature_milli'];
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  const record = body as Record<string, unknown>;
  if (
    !isObject ||
    Object.keys(record).some((key) => !fields.includes(key)) ||
    typeof record.prompt !== 'string' ||
    !fields.slice(1).every((key) => typeof record[key] === 'number' && Number.isInteger(record[key]) && (record[key] as number) >= 0 && (record[key] as number) <= 0xffff_ffff)
  ) {
    throw new GenerationInputError(
      'not_json',
      "a generative job's input must be a JSON object {prompt, max_tokens, top_k, temperature_milli}",
    );
  }
  const params = {
    prompt: record.prompt,
    maxTokens: record.max_tokens as number,
    topK: record.top_k as number,
    temperatureMilli: record.temperature_milli as number,
  };
  checkGeneration(params);
  return params;
}
