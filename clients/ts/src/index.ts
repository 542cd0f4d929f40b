/**
 * The Verdict program's TypeScript client: everything generated from its
 * IDL (instruction builders, account decoders, PDAs, error names, types).
 */
export * from './generated';
