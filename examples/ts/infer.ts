// One verified inference on a Verdict network with @verdict/client: reads
// the served network's fields from the environment (the `ready` line of
// `verdict-localnet --serve`), submits a job, hands its input to the
// keepers and prints the verified output.
//
//   VERDICT_RPC_URL        http://127.0.0.1:8899
//   VERDICT_KEEPERS        http://127.0.0.1:8080,http://127.0.0.1:8081
//   VERDICT_WALLET         path to a Solana keypair JSON file (64-byte array)
//   VERDICT_TOKEN_ACCOUNT  the wallet's token account of the stake mint
//   VERDICT_MAX_FEE        optional: the fee to escrow (default: suggestMaxFee, what
//                          the keepers quote, at least the Config's minimum job fee)
//   VERDICT_MODEL          optional: default test-projection-v1
//
// Type-checked by `npm run check-examples` in clients/ts.
import { readFileSync } from 'node:fs';
import { address, createKeyPairSignerFromBytes, createSolanaRpc } from '@solana/kit';
import { RiskLevel, infer, suggestMaxFee } from '@verdict/client';

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
  const model = process.env.VERDICT_MODEL ?? 'test-projection-v1';
  const maxFee = process.env.VERDICT_MAX_FEE
    ? BigInt(process.env.VERDICT_MAX_FEE)
    : await suggestMaxFee(rpc, keepers, model, RiskLevel.Low);

  const result = await infer(rpc, wallet, keepers, {
    tokenAccount: address(env('VERDICT_TOKEN_ACCOUNT')),
    model,
    input: 'Verdict verifies every answer against the chain.',
    risk: RiskLevel.Low,
    maxFee,
  });

  console.log(`job ${result.job} (id ${result.jobId}), submitted in ${result.signature}`);
  console.log(`output: ${result.output.length} values, first ${result.output.slice(0, 8).map((v) => v.toFixed(4)).join(', ')}`);
  console.log(`miner node ${result.miner}, signed by ${result.minerKey}, ${result.responseMs} ms`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
