// KeeperClient against local fakes: failover past a dead URL, a 5xx and a
// timeout; a 4xx surfaces as KeeperError without trying others; unknown_job
// right after submit is retried; awaitResult throws JobFailedError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSolanaRpc, type Address } from '@solana/kit';
import { JobFailedError, KeeperClient, KeeperError, awaitResult, parseQuoteView, type JobView } from '../src';
import { randomAddress } from './fixtures';
import { deadUrl, sendJson, startFake, type Fake } from './httpFakes';

function view(job: string, status: JobView['status']): JobView {
  return {
    job,
    status,
    miner: null,
    output: null,
    output_hash: null,
    response_ms: null,
    receipt: null,
    error: status === 'failed' ? { code: 'all_miners_failed', message: 'every miner failed the job' } : null,
    miners_failed: status === 'failed' ? 3 : 0,
  };
}

/** A keeper that takes inputs and reports them queued; counts requests. */
async function goodKeeper(): Promise<Fake & { posts: unknown[]; gets: string[] }> {
  const posts: unknown[] = [];
  const gets: string[] = [];
  const fake = await startFake((req, res, body) => {
    if (req.method === 'POST' && req.url === '/v1/jobs') {
      const parsed = JSON.parse(body) as { job: string };
      posts.push(parsed);
      sendJson(res, 202, view(parsed.job, 'queued'));
    } else if (req.method === 'GET' && req.url?.startsWith('/v1/jobs/')) {
      const job = req.url.slice('/v1/jobs/'.length);
      gets.push(job);
      sendJson(res, 202, view(job, 'running'));
    } else {
      sendJson(res, 404, { error: 'not_found', message: 'no route' });
    }
  });
  return Object.assign(fake, { posts, gets });
}

test('a dead first keeper: the second takes the input and answers the status', async () => {
  const dead = await deadUrl();
  const good = await goodKeeper();
  try {
    const keepers = new KeeperClient([dead, good.url + '/']);
    const job = randomAddress();
    const taken = await keepers.submitInput(job, 'some input');
    assert.equal(taken.url, good.url);
    assert.equal(taken.status, 202);
    assert.equal(taken.view.status, 'queued');
    assert.deepEqual(good.posts, [{ job, input: 'some input', realtime: false }]);
    assert.equal(keepers.keeperOf(job), good.url);
    const status = await keepers.jobStatus(job);
    assert.equal(status.status, 'running');
    assert.deepEqual(good.gets, [job]);
  } finally {
    await good.close();
  }
});

test('a keeper answering 5xx, or not in time, is skipped', async () => {
  const broken = await startFake((_req, res) => sendJson(res, 503, { error: 'unavailable', message: 'store down' }));
  const silent = await startFake(() => new Promise<void>(() => undefined));
  const good = await goodKeeper();
  try {
    const keepers = new KeeperClient([broken.url, silent.url, good.url], { requestTimeoutMs: 300 });
    const taken = await keepers.submitInput(randomAddress(), 'x', true);
    assert.equal(taken.url, good.url);
    assert.equal((good.posts[0] as { realtime: boolean }).realtime, true);
  } finally {
    await Promise.all([broken.close(), silent.close(), good.close()]);
  }
});

test('a 4xx is the keeper\'s refusal: KeeperError with its code, no other keeper tried', async () => {
  const refusing = await startFake((_req, res) =>
    sendJson(res, 422, { error: 'input_hash_mismatch', message: 'sha256(input) = aa but the job commits to bb' }),
  );
  const good = await goodKeeper();
  try {
    const keepers = new KeeperClient([refusing.url, good.url]);
    await assert.rejects(keepers.submitInput(randomAddress(), 'wrong input'), (e: unknown) => {
      assert.ok(e instanceof KeeperError);
      assert.equal(e.code, 'input_hash_mismatch');
      assert.equal(e.status, 422);
      assert.equal(e.url, refusing.url);
      assert.match(e.message, /commits to bb/);
      return true;
    });
    assert.equal(good.posts.length, 0);
  } finally {
    await Promise.all([refusing.close(), good.close()]);
  }
});

test('unknown_job right after submit is retried briefly, then thrown', async () => {
  let calls = 0;
  const lagging = await startFake((_req, res, body) => {
    calls += 1;
    if (calls <= 2) {
      sendJson(res, 404, { error: 'unknown_job', message: 'no job account on chain; submit the job first' });
    } else {
      sendJson(res, 202, view((JSON.parse(body) as { job: string }).job, 'queued'));
    }
  });
  const never = await startFake((_req, res) =>
    sendJson(res, 404, { error: 'unknown_job', message: 'no job account on chain; submit the job first' }),
  );
  try {
    const taken = await new KeeperClient(lagging.url).submitInput(randomAddress(), 'x');
    assert.equal(taken.status, 202);
    assert.equal(calls, 3);
    const started = Date.now();
    await assert.rejects(
      new KeeperClient(never.url, { unknownJobRetryMs: 600 }).submitInput(randomAddress(), 'x'),
      (e: unknown) => e instanceof KeeperError && e.status === 404 && e.code === 'unknown_job',
    );
    assert.ok(Date.now() - started >= 500, 'retried for about unknownJobRetryMs');
  } finally {
    await Promise.all([lagging.close(), never.close()]);
  }
});

test('jobStatus: a failed job\'s 502 is an answer; the holder down falls back to the others', async () => {
  const job = randomAddress();
  let holderUp = true;
  const holder = await startFake((req, res, body) => {
    if (!holderUp) {
      req.socket.destroy();
      return;
    }
    if (req.method === 'POST') {
      sendJson(res, 202, view((JSON.parse(body) as { job: string }).job, 'queued'));
    } else {
      sendJson(res, 502, view(job, 'failed'));
    }
  });
  let otherUp = false;
  let otherGets = 0;
  const other = await startFake((req, res) => {
    if (!otherUp) {
      req.socket.destroy();
      return;
    }
    otherGets += 1;
    sendJson(res, 404, { error: 'unknown_job', message: 'this keeper has no input for that job' });
  });
  try {
    // The first keeper is down at submit: the second takes the input.
    const keepers = new KeeperClient([other.url, holder.url]);
    await keepers.submitInput(job, 'x');
    assert.equal(keepers.keeperOf(job), holder.url);
    otherUp = true;
    const failed = await keepers.jobStatus(job);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'all_miners_failed');
    assert.equal(otherGets, 0, 'the keeper holding the input is asked first');
    holderUp = false;
    await assert.rejects(keepers.jobStatus(job), (e: unknown) => e instanceof KeeperError && e.code === 'unknown_job');
  } finally {
    await Promise.all([holder.close(), other.close()]);
  }
});

test('no keeper reachable: KeeperError "unreachable" with status 0', async () => {
  const keepers = new KeeperClient([await deadUrl(), await deadUrl()]);
  await assert.rejects(keepers.submitInput(randomAddress(), 'x'), (e: unknown) => {
    assert.ok(e instanceof KeeperError);
    assert.equal(e.code, 'unreachable');
    assert.equal(e.status, 0);
    assert.match(e.message, /ECONNREFUSED/);
    return true;
  });
});

test('awaitResult: a job the keeper reports failed throws JobFailedError with its code', async () => {
  const job: Address = randomAddress();
  const keeper = await startFake((_req, res) => sendJson(res, 502, view(job, 'failed')));
  try {
    // The chain is never asked: the keeper's answer settles it.
    const rpc = createSolanaRpc('http://127.0.0.1:1');
    await assert.rejects(awaitResult(rpc, [keeper.url], job, { input: 'x', timeoutMs: 5_000 }), (e: unknown) => {
      assert.ok(e instanceof JobFailedError);
      assert.equal(e.code, 'all_miners_failed');
      assert.equal(e.view.miners_failed, 3);
      return true;
    });
  } finally {
    await keeper.close();
  }
});

test('parseQuoteView: prices as bigint; the clearing median when the keeper has one, null before', () => {
  const base = { model_id: 'm', risk: 0, lowest: 10, median: 20, highest: 30, miners: 3 };
  const older = parseQuoteView(base);
  assert.deepEqual(older, { ...base, lowest: 10n, median: 20n, highest: 30n, clearing_median: null, cleared: 0 });
  const cleared = parseQuoteView({ ...base, clearing_median: 15, cleared: 4 });
  assert.equal(cleared?.clearing_median, 15n);
  assert.equal(cleared?.cleared, 4);
  assert.equal(parseQuoteView({ ...base, clearing_median: 'cheap' }), null);
  assert.equal(parseQuoteView({ ...base, lowest: undefined }), null);
});
