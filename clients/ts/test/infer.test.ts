// infer, getNodeReputation and getJobHistory against a fake chain (a
// JSON-RPC server that takes the submit_job transaction and serves the
// Config, Job and Node accounts) and a fake keeper that answers with a
// result signed by the miner's key: the whole flow without a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import {
  createSolanaRpc,
  generateKeyPairSigner,
  getAddressEncoder,
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getTransactionDecoder,
  type Address,
} from '@solana/kit';
import {
  CONFIG_DISCRIMINATOR,
  JOB_DISCRIMINATOR,
  JobClosedError,
  JobOutcomeError,
  JobStatus,
  NODE_DISCRIMINATOR,
  RiskLevel,
  VERDICT_PROGRAM_ADDRESS,
  decodeModelId,
  findConfigPda,
  findJobAddress,
  getConfigSize,
  getJobEncoder,
  getJobSubmittedEncoder,
  getJobCompletedEncoder,
  getJobSize,
  getNodeReputation,
  getNodeSize,
  getJobHistory,
  getSubmitJobInstructionDataDecoder,
  infer,
  tensorHash,
  type Job,
  type OutputTensor,
} from '../src';
import { handBuiltMessage, hex, makeJobAccount, minerKeyPair, probeDigest, randomAddress, sha } from './fixtures';

const PROBE_DIGEST = probeDigest([{ layer: 0, token: 2, dim: 5, value: 1234 }]);
import { sendJson, startFake, type Fake } from './httpFakes';

const b64 = (bytes: ArrayLike<number>) => Buffer.from(Uint8Array.from(bytes)).toString('base64');

/** A fixed-size account of zeros with its discriminator, and `fields` written at their offsets. */
function zeroAccount(size: number, discriminator: Uint8Array, fields: [number, Uint8Array][]): Uint8Array {
  const data = new Uint8Array(size);
  data.set(discriminator);
  for (const [offset, bytes] of fields) {
    data.set(bytes, offset);
  }
  return data;
}

type World = {
  rpcFake: Fake;
  keeperFake: Fake;
  stakeMint: Address;
  node: Address;
  jobs: Map<string, Job>;
  submitted: { job: Address; config: Address; tokens: Address; mint: Address; data: ReturnType<ReturnType<typeof getSubmitJobInstructionDataDecoder>['decode']> }[];
  close: () => Promise<void>;
};

const TENSOR: OutputTensor = { shape: [1, 3], dtype: 'f32', scale: 10_000, data: [5_000, -12_345, 10_000] };

/** `closed`: the Job account is gone once the keeper says done (paid and closed). */
async function world(endStatus: JobStatus | 'closed' = JobStatus.Solved): Promise<World> {
  const stakeMint = randomAddress();
  const node = randomAddress();
  const miner = minerKeyPair();
  const [configAddress] = await findConfigPda();
  const jobs = new Map<string, Job>();
  const submitted: World['submitted'] = [];
  const addr = (a: Address) => getAddressEncoder().encode(a) as Uint8Array;
  const accounts = new Map<string, Uint8Array>([
    // Config: discriminator, authority, pending authority, then the stake mint.
    [configAddress, zeroAccount(getConfigSize(), CONFIG_DISCRIMINATOR, [[72, addr(stakeMint)]])],
    // Node: discriminator, operator, then the signing key.
    [node, zeroAccount(getNodeSize(), NODE_DISCRIMINATOR, [[40, addr(miner.address)]])],
  ]);
  const blockhash = randomAddress();

  const rpcFake = await startFake((_req, res, body) => {
    const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
    const ok = (result: unknown) => sendJson(res, 200, { jsonrpc: '2.0', id, result });
    switch (method) {
      case 'getLatestBlockhash':
        return ok({ context: { slot: 5 }, value: { blockhash, lastValidBlockHeight: 1_000 } });
      case 'getAccountInfo': {
        const key = params[0] as string;
        const job = jobs.get(key);
        const data = job ? getJobEncoder().encode(job) : accounts.get(key);
        return ok({
          context: { slot: 5 },
          value: data
            ? { data: [b64(data), 'base64'], executable: false, lamports: 1_000_000, owner: VERDICT_PROGRAM_ADDRESS, rentEpoch: 0, space: data.length }
            : null,
        });
      }
      case 'sendTransaction': {
        const tx = getTransactionDecoder().decode(getBase64Encoder().encode(params[0] as string));
        const message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
        if (message.version !== 'legacy') {
          return sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: -32602, message: 'a legacy transaction, please' } });
        }
        const [ix] = message.instructions;
        const at = (i: number) => message.staticAccounts[ix.accountIndices![i]];
        const data = getSubmitJobInstructionDataDecoder().decode(ix.data!);
        const job = at(2);
        submitted.push({ job, config: at(1), mint: at(4), tokens: at(5), data });
        jobs.set(
          job,
          makeJobAccount({
            discriminator: JOB_DISCRIMINATOR,
            client: message.staticAccounts[0],
            jobId: data.jobId,
            model: data.model,
            inputHash: data.inputHash,
            risk: data.risk,
            maxFee: data.maxFee,
            // Already allocated: the keeper will have it solved by the time it says done.
            status: JobStatus.Allocated,
            miner: node,
            outputHash: tensorHash(TENSOR),
            responseMs: 77,
          }),
        );
        return ok('1111111111111111111111111111111111111111111111111111111111111111');
      }
      case 'getSignatureStatuses':
        return ok({
          context: { slot: 6 },
          value: (params[0] as string[]).map(() => ({ slot: 6, confirmations: null, err: null, status: { Ok: null }, confirmationStatus: 'confirmed' })),
        });
      default:
        return sendJson(res, 200, { jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
    }
  });

  const polls = new Map<string, number>();
  const keeperFake = await startFake((req, res, body) => {
    if (req.method === 'POST') {
      const { job, input } = JSON.parse(body) as { job: string; input: string };
      const account = jobs.get(job);
      if (!account) {
        return sendJson(res, 404, { error: 'unknown_job', message: 'no job account on chain' });
      }
      if (hex(sha(input)) !== hex(Uint8Array.from(account.inputHash))) {
        return sendJson(res, 422, { error: 'input_hash_mismatch', message: 'sha256(input) differs' });
      }
      return sendJson(res, 202, { job, status: 'queued', miner: null, output: null, output_hash: null, response_ms: null, receipt: null, error: null, miners_failed: 0 });
    }
    const job = (req.url ?? '').slice('/v1/jobs/'.length) as Address;
    const account = jobs.get(job)!;
    const n = (polls.get(job) ?? 0) + 1;
    polls.set(job, n);
    if (n < 3) {
      return sendJson(res, 202, { job, status: 'running', miner: null, output: null, output_hash: null, response_ms: null, receipt: null, error: null, miners_failed: 0 });
    }
    // Done: the outcome is on chain.
    if (endStatus === 'closed') {
      jobs.delete(job);
    } else {
      jobs.set(job, { ...account, status: endStatus, solvedAt: 1n });
    }
    const modelId = decodeModelId(account.model);
    const inputHash = Uint8Array.from(account.inputHash);
    const outputHash = tensorHash(TENSOR);
    const signature = sign(
      null,
      handBuiltMessage({ job, modelId, inputHash, outputHash, probeDigest: PROBE_DIGEST, sampledAs: miner.address, loadTimeMs: 3, inferenceTimeUs: 900 }),
      miner.privateKey,
    ).toString('hex');
    return sendJson(res, 200, {
      job,
      status: 'done',
      miner: node,
      output: TENSOR,
      output_hash: hex(outputHash),
      response_ms: 77,
      receipt: {
        model_id: modelId,
        input_hash: hex(inputHash),
        load_time_ms: 3,
        inference_time_us: 900,
        miner_pubkey: miner.address,
        signature,
        probe_digest: hex(PROBE_DIGEST),
        sampled_as: miner.address,
      },
      error: null,
      miners_failed: 0,
    });
  });

  return {
    rpcFake,
    keeperFake,
    stakeMint,
    node,
    jobs,
    submitted,
    close: async () => {
      await Promise.all([rpcFake.close(), keeperFake.close()]);
    },
  };
}

test('infer: submit on chain, input to the keeper (past a dead one), verified result', async () => {
  const w = await world();
  try {
    const rpc = createSolanaRpc(w.rpcFake.url);
    const client = await generateKeyPairSigner();
    const tokenAccount = randomAddress();
    const result = await infer(rpc, client, ['http://127.0.0.1:1', w.keeperFake.url], {
      tokenAccount,
      model: 'test-projection-v1',
      input: 'embed this',
      risk: RiskLevel.Medium,
      maxFee: 2_500n,
      timeoutMs: 20_000,
    });
    assert.deepEqual(result.output, [0.5, -1.2345, 1]);
    assert.equal(result.miner, w.node);
    assert.equal(result.responseMs, 77);
    assert.equal(result.outputHash, hex(tensorHash(TENSOR)));

    const [sent] = w.submitted;
    assert.equal(sent.job, result.job);
    assert.equal(sent.job, await findJobAddress(client.address, result.jobId));
    assert.equal(sent.config, (await findConfigPda())[0], 'the Config the builder uses is the one read');
    assert.equal(sent.mint, w.stakeMint, "the Config's stake mint");
    assert.equal(sent.tokens, tokenAccount);
    assert.equal(sent.data.jobId, result.jobId);
    assert.equal(decodeModelId(sent.data.model), 'test-projection-v1');
    assert.equal(hex(Uint8Array.from(sent.data.inputHash)), hex(sha('embed this')));
    assert.equal(sent.data.risk, RiskLevel.Medium);
    assert.equal(sent.data.maxFee, 2_500n);
  } finally {
    await w.close();
  }
});

test('job ids from the clock are unique per client', async () => {
  const w = await world();
  try {
    const rpc = createSolanaRpc(w.rpcFake.url);
    const client = await generateKeyPairSigner();
    const ids = new Set<bigint>();
    for (let i = 0; i < 3; i++) {
      const r = await infer(rpc, client, w.keeperFake.url, {
        tokenAccount: randomAddress(),
        model: 'test-projection-v1',
        input: `input ${i}`,
        risk: RiskLevel.Low,
        maxFee: 1n,
      });
      ids.add(r.jobId);
    }
    assert.equal(ids.size, 3);
    assert.equal(new Set(w.submitted.map((s) => s.job)).size, 3);
  } finally {
    await w.close();
  }
});

/** One low-risk job from a fresh client, for the tests of how a job ends without a result. */
async function inferOne(w: World) {
  return infer(createSolanaRpc(w.rpcFake.url), await generateKeyPairSigner(), [w.keeperFake.url], {
    tokenAccount: randomAddress(),
    model: 'test-projection-v1',
    input: 'x',
    risk: RiskLevel.Low,
    maxFee: 1n,
  });
}

test('a job refunded on chain is a JobOutcomeError naming the status', async () => {
  const w = await world(JobStatus.Refunded);
  try {
    await assert.rejects(
      inferOne(w),
      (e: unknown) => e instanceof JobOutcomeError && e.statusName === 'Refunded' && e.status === JobStatus.Refunded,
    );
  } finally {
    await w.close();
  }
});

test('a job closed on chain before its result is collected is a JobClosedError', async () => {
  const w = await world('closed');
  try {
    await assert.rejects(inferOne(w), (e: unknown) => e instanceof JobClosedError && e.job === w.submitted[0].job);
  } finally {
    await w.close();
  }
});

test('getNodeReputation reads the Node and the Config', async () => {
  const w = await world();
  try {
    const reputation = await getNodeReputation(createSolanaRpc(w.rpcFake.url), w.node);
    assert.equal(reputation.node, w.node);
    assert.equal(reputation.statusName, 'Active');
    assert.equal(reputation.trialName, 'Pending');
    assert.equal(reputation.tier, 3);
    assert.equal(reputation.trust, 0);
    assert.equal(reputation.window.jobs, 0);
  } finally {
    await w.close();
  }
});

test('getJobHistory: every page of signatures, oldest first, with their events', async () => {
  const job = randomAddress();
  const submittedLine = `Program data: ${b64(
    getJobSubmittedEncoder().encode({
      job,
      client: randomAddress(),
      jobId: 9n,
      model: new Uint8Array(32),
      inputHash: new Uint8Array(32),
      risk: RiskLevel.Low,
      maxFee: 10n,
    }),
  )}`;
  const completedLine = `Program log: Program data: ${b64(
    getJobCompletedEncoder().encode({ job, miner: randomAddress(), outputHash: new Uint8Array(32), responseMs: 5, releaseAt: 0n, signers: 1 }),
  )}`;
  // 1 001 transactions, newest first: the last one (oldest) is the submit, the newest the completion.
  const sigs = Array.from({ length: 1001 }, (_, i) => ({ signature: `sig${1000 - i}`, slot: 1000 - i }));
  const encodings: string[] = [];
  const fake = await startFake(async (_req, res, body) => {
    const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: [string, { before?: string; limit?: number; encoding?: string }] };
    if (method === 'getSignaturesForAddress') {
      const start = params[1].before ? sigs.findIndex((s) => s.signature === params[1].before) + 1 : 0;
      const page = sigs.slice(start, start + (params[1].limit ?? 1000)).map((s) => ({ ...s, err: null, memo: null, blockTime: null, confirmationStatus: 'finalized' }));
      return sendJson(res, 200, { jsonrpc: '2.0', id, result: page });
    }
    encodings.push(params[1].encoding ?? '');
    const n = Number(params[0].slice(3));
    const logs = n === 0 ? [submittedLine] : n === 1000 ? [completedLine] : ['Program log: nothing'];
    return sendJson(res, 200, { jsonrpc: '2.0', id, result: { slot: n, blockTime: null, meta: { err: null, fee: 5000, logMessages: logs }, transaction: { signatures: [], message: {} }, version: 'legacy' } });
  });
  try {
    const history = await getJobHistory(createSolanaRpc(fake.url), job);
    assert.equal(history.length, 1001);
    assert.equal(history[0].slot, 0n);
    assert.equal(history[1000].slot, 1000n);
    assert.deepEqual(history[0].events.map((e) => e.name), ['JobSubmitted']);
    assert.deepEqual(history[1000].events.map((e) => e.name), ['JobCompleted']);
    assert.ok(encodings.every((e) => e === 'json'));
  } finally {
    await fake.close();
  }
});
