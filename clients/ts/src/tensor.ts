// The miner's output tensor as the keeper serves it: its well-formedness,
// its canonical hash (the job's on-chain output hash), its float values and,
// for a generation, its token ids and text.
import { concatBytes, sha256, u32le, utf8 } from './bytes';

/**
 * A rounded output: each float `v` travels as the integer `round(v * scale)`
 * (dtype "f32"); or a generation (dtype "token", scale 1, shape [n]): the
 * token ids in `data` and the text they decode to in `text`.
 */
export type OutputTensor = {
  shape: number[];
  dtype: string;
  scale: number;
  data: number[];
  /** A generation's text (hashed with its token ids); absent for an embedding. */
  text?: string | null;
};

/** Element type of an embedding: f32 values on the fixed-point grid. */
export const DTYPE_F32 = 'f32';
/** Element type of a generation: token ids, with their text. */
export const DTYPE_TOKEN = 'token';

const TENSOR_HASH_DOMAIN = 'VERDICT-TENSOR-V1';
const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;
const I32_MAX = 0x7fff_ffff;

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

function isI32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= I32_MIN && n <= I32_MAX;
}

/** Whether `text` is a well-formed UTF-16 string (no lone surrogate): what a Rust String can hold. */
export function isWellFormedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) {
        return false;
      }
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * Whether `tensor` is one the miner could have produced: u32 dimensions (at
 * most 255) whose product is the number of i32 values, and either dtype
 * "f32" with a positive u32 scale and no text, or dtype "token" with scale
 * 1, rank 1, non-negative ids and a (well-formed) text.
 */
export function isWellFormedTensor(tensor: {
  shape: readonly unknown[];
  dtype: unknown;
  scale: unknown;
  data: readonly unknown[];
  text?: unknown;
}): boolean {
  const text = tensor.text ?? null;
  if (tensor.dtype === DTYPE_F32) {
    if (!isU32(tensor.scale) || tensor.scale === 0 || text !== null) {
      return false;
    }
  } else if (tensor.dtype === DTYPE_TOKEN) {
    if (
      tensor.scale !== 1 ||
      tensor.shape.length !== 1 ||
      typeof text !== 'string' ||
      !isWellFormedText(text) ||
      !tensor.data.every((id) => typeof id === 'number' && id >= 0)
    ) {
      return false;
    }
  } else {
    return false;
  }
  if (tensor.shape.length > 255 || !tensor.shape.every(isU32) || !tensor.data.every(isI32)) {
    return false;
  }
  let elements = 1n;
  for (const dim of tensor.shape as number[]) {
    elements *= BigInt(dim);
  }
  return elements === BigInt(tensor.data.length);
}

/**
 * sha256 over the tensor's canonical encoding:
 * `"VERDICT-TENSOR-V1" ‖ u8 len(dtype) ‖ dtype ‖ u32 LE scale ‖ u8 rank ‖
 * rank × u32 LE dim ‖ n × i32 LE value [‖ u32 LE len(text) ‖ text]`, the
 * text (UTF-8) only for a generation. Throws a RangeError on a tensor that
 * is not well formed.
 */
export function tensorHash(tensor: OutputTensor): Uint8Array {
  if (!isWellFormedTensor(tensor)) {
    throw new RangeError('the tensor is not well formed (dtype, scale, shape, data or text)');
  }
  const dtype = utf8(tensor.dtype);
  const data = new Uint8Array(4 * tensor.data.length);
  const view = new DataView(data.buffer);
  tensor.data.forEach((value, i) => view.setInt32(4 * i, value, true));
  const parts: ArrayLike<number>[] = [
    utf8(TENSOR_HASH_DOMAIN),
    [dtype.length],
    dtype,
    u32le(tensor.scale),
    [tensor.shape.length],
    ...tensor.shape.map(u32le),
    data,
  ];
  if (typeof tensor.text === 'string') {
    const text = utf8(tensor.text);
    parts.push(u32le(text.length), text);
  }
  return sha256(concatBytes(parts));
}

/** The floats the tensor stands for: each value divided by the scale (a generation's token ids). */
export function tensorValues(tensor: OutputTensor): number[] {
  return tensor.data.map((value) => value / tensor.scale);
}

/** A well-formed generation's token ids, else null. */
export function tensorTokens(tensor: OutputTensor): number[] | null {
  return tensor.dtype === DTYPE_TOKEN && isWellFormedTensor(tensor) ? [...tensor.data] : null;
}
