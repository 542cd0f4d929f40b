// The miner's output tensor as the keeper serves it: its well-formedness,
// its canonical hash (the job's on-chain output hash) and its float values.
import { concatBytes, sha256, u32le, utf8 } from './bytes';

/**
 * A rounded output: each float `v` travels as the integer `round(v * scale)`.
 * `dtype` is always "f32" in a well-formed tensor (see isWellFormedTensor).
 */
export type OutputTensor = {
  shape: number[];
  dtype: string;
  scale: number;
  data: number[];
};

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

/**
 * Whether `tensor` is one the miner could have produced: dtype "f32", a
 * positive u32 scale, u32 dimensions (at most 255) whose product is the
 * number of values, and i32 values.
 */
export function isWellFormedTensor(tensor: {
  shape: readonly unknown[];
  dtype: unknown;
  scale: unknown;
  data: readonly unknown[];
}): boolean {
  if (tensor.dtype !== 'f32' || !isU32(tensor.scale) || tensor.scale === 0) {
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
 * rank × u32 LE dim ‖ n × i32 LE value`. Throws a RangeError on a tensor
 * that is not well formed.
 */
export function tensorHash(tensor: OutputTensor): Uint8Array {
  if (!isWellFormedTensor(tensor)) {
    throw new RangeError('the tensor is not well formed (dtype, scale, shape or data)');
  }
  const dtype = utf8(tensor.dtype);
  const data = new Uint8Array(4 * tensor.data.length);
  const view = new DataView(data.buffer);
  tensor.data.forEach((value, i) => view.setInt32(4 * i, value, true));
  return sha256(
    concatBytes([
      utf8(TENSOR_HASH_DOMAIN),
      [dtype.length],
      dtype,
      u32le(tensor.scale),
      [tensor.shape.length],
      ...tensor.shape.map(u32le),
      data,
    ]),
  );
}

/** The floats the tensor stands for: each value divided by the scale. */
export function tensorValues(tensor: OutputTensor): number[] {
  return tensor.data.map((value) => value / tensor.scale);
}
