/**
 * The Verdict program's TypeScript client: everything generated from its
 * IDL (instruction builders, account decoders, PDAs, error names, types,
 * event codecs and parsing), and the hand-written layer on top: sending
 * transactions, submitting jobs, the keeper client, verified results and
 * chain queries.
 */
export * from './generated';
export { fromHex, sha256, toHex } from './bytes';
export * from './errors';
export * from './generation';
export * from './jobs';
export * from './keeper';
export * from './keeperTypes';
export * from './queries';
export * from './tensor';
export * from './transactions';
export * from './verify';
