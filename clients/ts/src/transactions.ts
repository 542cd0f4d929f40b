// sendAndConfirm: one legacy transaction signed by its signers, sent with
// preflight and confirmed by polling getSignatureStatuses (no websockets),
// with program refusals thrown as VerdictProgramError.
import {
  appendTransactionMessageInstructions,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Commitment,
  type GetLatestBlockhashApi,
  type GetSignatureStatusesApi,
  type GetTransactionApi,
  type Instruction,
  type InstructionWithSigners,
  type Rpc,
  type SendTransactionApi,
  type Signature,
  type TransactionSigner,
} from '@solana/kit';
import { sleep } from './bytes';
import {
  TransactionFailedError,
  VerdictTimeoutError,
  solanaErrorFromTransactionErr,
  verdictProgramErrorFrom,
} from './errors';

/** The RPC methods sendAndConfirm uses. */
export type SendRpc = Rpc<GetLatestBlockhashApi & SendTransactionApi & GetSignatureStatusesApi & GetTransactionApi>;

/** An instruction whose signer accounts carry their TransactionSigners (as the generated builders make them). */
export type SignableInstruction = Instruction & InstructionWithSigners;

export type SendAndConfirmOptions = {
  /** Confirmation level to wait for (default "confirmed"; "finalized" waits for that). */
  commitment?: 'confirmed' | 'finalized';
  /** Give up waiting for confirmation after this long (default 60 000 ms). */
  timeoutMs?: number;
  /** Interval between getSignatureStatuses polls (default 400 ms). */
  pollMs?: number;
  /** Skip the RPC node's simulation before sending (default false). */
  skipPreflight?: boolean;
};

/**
 * Builds a legacy transaction of `instructions` paid by `signer`, on the
 * latest blockhash, signs it with every signer it carries, sends it (base64,
 * preflight at "confirmed") and polls its status until it is confirmed (or
 * finalized) or `timeoutMs` passes. Returns its signature.
 *
 * Throws a VerdictProgramError when the program refuses it (at preflight or
 * on chain), a TransactionFailedError when it landed with another error, a
 * VerdictTimeoutError when it is not confirmed in time, and the RPC's
 * SolanaError for anything else.
 */
export async function sendAndConfirm(
  rpc: SendRpc,
  instructions: readonly SignableInstruction[],
  signer: TransactionSigner,
  opts: SendAndConfirmOptions = {},
): Promise<Signature> {
  const commitment = opts.commitment ?? 'confirmed';
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 'legacy' }),
    (m) => setTransactionMessageFeePayerSigner(signer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const transaction = await signTransactionMessageWithSigners(message);
  const signature = getSignatureFromTransaction(transaction);
  const programs: Address[] = instructions.map((ix) => ix.programAddress);
  const wire = getBase64EncodedWireTransaction(transaction);
  try {
    await rpc
      .sendTransaction(wire, {
        encoding: 'base64',
        preflightCommitment: 'confirmed',
        skipPreflight: opts.skipPreflight ?? false,
      })
      .send();
  } catch (e) {
    throw verdictProgramErrorFrom(e, programs) ?? e;
  }
  await confirm(rpc, signature, programs, commitment, opts.timeoutMs ?? 60_000, opts.pollMs ?? 400);
  return signature;
}

const LEVEL: Record<Commitment, number> = { processed: 0, confirmed: 1, finalized: 2 };

async function confirm(
  rpc: SendRpc,
  signature: Signature,
  programs: readonly Address[],
  commitment: 'confirmed' | 'finalized',
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const status = value[0];
    if (status !== null && status !== undefined) {
      if (status.err !== null) {
        const logs = await transactionLogs(rpc, signature);
        const error = solanaErrorFromTransactionErr(status.err);
        throw (
          verdictProgramErrorFrom(error, programs, { logs, signature }) ??
          new TransactionFailedError(signature, `transaction ${signature} failed: ${error.message}`, logs, error)
        );
      }
      const level = status.confirmationStatus === null ? -1 : LEVEL[status.confirmationStatus];
      if (level >= LEVEL[commitment]) {
        return;
      }
    }
    if (Date.now() >= deadline) {
      throw new VerdictTimeoutError(`transaction ${signature} not ${commitment} after ${timeoutMs} ms`);
    }
    await sleep(pollMs);
  }
}

/**
 * A landed transaction's log messages, or undefined. Asks for the json
 * encoding, and for base64 from a node that serves only the binary ones.
 */
export async function transactionLogs(
  rpc: Rpc<GetTransactionApi>,
  signature: Signature,
): Promise<readonly string[] | undefined> {
  const found = await getTransactionLogs(rpc, signature).catch(() => null);
  return found?.logs ?? undefined;
}

/** Slot and log messages of a landed transaction (null when the node does not have it). */
export async function getTransactionLogs(
  rpc: Rpc<GetTransactionApi>,
  signature: Signature,
): Promise<{ slot: bigint; logs: readonly string[] | null } | null> {
  let tx: { slot: bigint; meta: { logMessages: readonly string[] | null } | null } | null;
  try {
    tx = await rpc
      .getTransaction(signature, {
        commitment: 'confirmed',
        encoding: 'json',
        maxSupportedTransactionVersion: 0,
      })
      .send();
  } catch (jsonRefused) {
    try {
      tx = await rpc
        .getTransaction(signature, {
          commitment: 'confirmed',
          encoding: 'base64',
          maxSupportedTransactionVersion: 0,
        })
        .send();
    } catch {
      throw jsonRefused;
    }
  }
  return tx === null ? null : { slot: tx.slot, logs: tx.meta?.logMessages ?? null };
}
