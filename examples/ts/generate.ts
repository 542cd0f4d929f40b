// One verified text generation on a Verdict network with @verdict/client:
// the same environment as infer.ts (the `ready` line of
// `verdict-localnet --serve`), a prompt to SmolLM2, and the generated text
// once it checks out against the chain (the output hash covers the text,
// the miner's signature covers the hash).
//
//   VERDICT_RPC_URL        http://127.0.0.1:8899
//   VERDICT_KEEPERS        http://127.0.0.1:8080,http://127.0.0.1:8081
//   VERDICT_WALLET         path to a Solana keypair JSON file (64-byte array)
//   VERDICT_TOKEN_ACCOUNT  the wallet's token account of the stake mint
//   VERDICT_MAX_FEE        optional: the fee to escrow (default: suggestMaxFee, what
//                          the keepers quote, at least the Config's minimum job fee)
//   VERDICT_PROMPT         optional: the prompt
//   VERDICT_TEMPERATURE_MILLI optional: sampling temperature × 1000 (default 700; 0 is greedy)
//
// Type-checked with the other examples by `npm test` in clients/ts; run it
// with `node dist-examples/examples/ts/generate.js` after `npm test`.
import { readFileSync } from 'node:fs';
import { address, createKeyPairSignerFromBytes, createSolanaRpc } from '@solana/kit';
import { RiskLevel, SMOLLM2_ID, generationInput, infer, suggestMaxFee } from '@verdict/client';

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`set ${name}`);
  }
  return value;
}

async function main(): Promise<void> {
  const rpc = createSolanaRpc(env('VERDICT_RPC_URL'));
  const keepers = env('VERDICT_KEEPERS').split(',').map((url) => url.trim());
  const secret = JSON.parse(readFileSync(env('VERDICT_WALLET'), 'utf8')) as number[];
  const wallet = await createKeyPairSignerFromBytes(Uint8Array.from(secret));
  const maxFee = process.env.VERDICT_MAX_FEE
    ? BigInt(process.env.VERDICT_MAX_FEE)
    : await suggestMaxFee(rpc, keepers, SMOLLM2_ID, RiskLevel.Low);

  // The job's input is the request as JSON: its hash on chain binds the
  // prompt and the sampling parameters. Checked here before anything is sent.
  const input = generationInput({
    prompt: process.env.VERDICT_PROMPT ?? 'In one sentence: why verify AI answers on a blockchain?',
    maxTokens: 48,
    topK: 40,
    // 0 is greedy: the same answer for every job and miner.
    temperatureMilli: Number(process.env.VERDICT_TEMPERATURE_MILLI ?? 700),
  });
  const result = await infer(rpc, wallet, keepers, {
    tokenAccount: address(env('VERDICT_TOKEN_ACCOUNT')),
    model: SMOLLM2_ID,
    input,
    risk: RiskLevel.Low,
    maxFee,
  });

  console.log(`job ${result.job} (id ${result.jobId}), submitted in ${result.signature}`);
  const speed = result.tokensPerSecond === null ? '' : `, ${result.tokensPerSecond.toFixed(1)} tokens/s`;
  console.log(`generated ${result.tokens?.length ?? 0} tokens${speed}, verified:`);
  console.log(result.text);
  console.log(`miner node ${result.miner}, signed by ${result.minerKey}, ${result.responseMs} ms`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
