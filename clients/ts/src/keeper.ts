// KeeperClient: hands a job's input to a keeper and polls the job there,
// failing over across keeper URLs when one is unreachable or answers 5xx.
import type { Address } from '@solana/kit';
import { sleep } from './bytes';
import { KeeperError } from './errors';
import { parseJobView, parseKeeperErrorBody, parseQuoteView, type JobView, type QuoteView } from './keeperTypes';

/** The part of `fetch` the keeper client uses. */
export type KeeperFetch = (
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export type KeeperClientOptions = {
  /** Timeout of one HTTP request (default 10 000 ms); a keeper that takes longer counts as down. */
  requestTimeoutMs?: number;
  /**
   * How long a 404 `unknown_job` answer to a submit is retried (default
   * 30 000 ms): a keeper may not see a job its client just submitted yet.
   */
  unknownJobRetryMs?: number;
  /** The fetch implementation (default: the global fetch). */
  fetch?: KeeperFetch;
};

/** What a keeper answered to a submitted input. */
export type SubmitInputResult = {
  /** The keeper that took the input. */
  url: string;
  /** 202 (accepted) or 200 (it had the input already). */
  status: number;
  view: JobView;
};

type Answer<T = JobView> =
  | { kind: 'view'; status: number; view: T }
  | { kind: 'refused'; error: KeeperError }
  | { kind: 'down'; reason: string };

/**
 * A client of one or more keepers (base URLs like `http://127.0.0.1:8080`),
 * tried in order. A keeper that cannot be reached, times out, answers 5xx
 * (other than a failed job's 502) or answers something that is not a
 * JobView is skipped for the next; a 4xx is the keeper's refusal and is
 * thrown as a KeeperError.
 */
export class KeeperClient {
  readonly urls: readonly string[];
  private readonly requestTimeoutMs: number;
  private readonly unknownJobRetryMs: number;
  private readonly fetchFn: KeeperFetch;
  /** Which keeper took each job's input. */
  private readonly holders = new Map<string, string>();

  constructor(urls: string | readonly string[], options: KeeperClientOptions = {}) {
    const list = (typeof urls === 'string' ? [urls] : [...urls]).map((u) => u.replace(/\/+$/, ''));
    if (list.length === 0) {
      throw new RangeError('KeeperClient needs at least one keeper URL');
    }
    this.urls = list;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.unknownJobRetryMs = options.unknownJobRetryMs ?? 30_000;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** The keeper that took `job`'s input through this client, if any. */
  keeperOf(job: Address): string | undefined {
    return this.holders.get(job);
  }

  /**
   * POSTs the job's input to the first keeper that answers. The keeper
   * checks sha256(input) against the job's on-chain input hash. Idempotent:
   * the same input again reports the job's progress.
   */
  async submitInput(job: Address, input: string, realtime = false): Promise<SubmitInputResult> {
    const body = JSON.stringify({ job, input, realtime });
    const deadline = Date.now() + this.unknownJobRetryMs;
    let delay = 250;
    let start = 0;
    for (;;) {
      const down: string[] = [];
      let waitFor: number | undefined;
      for (let i = 0; i < this.urls.length; i++) {
        const at = (start + i) % this.urls.length;
        const url = this.urls[at];
        const answer = await this.call(url, 'POST', '/v1/jobs', body);
        if (answer.kind === 'view') {
          this.holders.set(job, url);
          return { url, status: answer.status, view: answer.view };
        }
        if (answer.kind === 'refused') {
          const { error } = answer;
          if (error.status === 404 && error.code === 'unknown_job' && Date.now() < deadline) {
            waitFor = at;
            break;
          }
          throw error;
        }
        down.push(`${url}: ${answer.reason}`);
      }
      if (waitFor === undefined) {
        throw unreachable(this.urls, down);
      }
      start = waitFor;
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 2_000);
    }
  }

  /**
   * The job's view (done, queued/running or failed) from the keeper that
   * took its input, else from the others in order. Throws a KeeperError:
   * 404 `unknown_job` when no reachable keeper has the job's input,
   * `unreachable` when none answered.
   */
  async jobStatus(job: Address): Promise<JobView> {
    const holder = this.holders.get(job);
    const order = holder === undefined ? this.urls : [holder, ...this.urls.filter((u) => u !== holder)];
    return this.firstFound(order, `/v1/jobs/${encodeURIComponent(job)}`, parseJobView);
  }

  /**
   * What the miners ask now for a job of `model` at `risk` (their standing
   * prices, from the first keeper that has a quote), to set an informed
   * maximum fee. Throws a KeeperError: 404 `no_quote` when no miner that
   * may take such a job prices it, `unreachable` when no keeper answered.
   */
  async quote(model: string, risk: 'low' | 'medium' | 'high'): Promise<QuoteView> {
    const path = `/v1/quote?model=${encodeURIComponent(model)}&risk=${risk}`;
    return this.firstFound(this.urls, path, parseQuoteView);
  }

  /**
   * GETs `path` from the keepers in `order` until one answers with what
   * `parse` reads. A 404 lets the next keeper answer (the first 404 is
   * thrown if none does); any other refusal is thrown at once; an
   * unreachable keeper is skipped.
   */
  private async firstFound<T>(
    order: readonly string[],
    path: string,
    parse: (json: unknown) => T | null,
  ): Promise<T> {
    const down: string[] = [];
    let notFound: KeeperError | undefined;
    for (const url of order) {
      const answer = await this.call(url, 'GET', path, undefined, parse);
      if (answer.kind === 'view') {
        return answer.view;
      }
      if (answer.kind === 'refused') {
        if (answer.error.status === 404) {
          notFound ??= answer.error;
          continue;
        }
        throw answer.error;
      }
      down.push(`${url}: ${answer.reason}`);
    }
    throw notFound ?? unreachable(order, down);
  }

  private async call(url: string, method: 'GET' | 'POST', path: string, body?: string): Promise<Answer>;
  private async call<T>(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    parse: (json: unknown) => T | null,
  ): Promise<Answer<T>>;
  private async call<T>(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    parse?: (json: unknown) => T | null,
  ): Promise<Answer<T | JobView>> {
    let status: number;
    let text: string;
    try {
      const response = await this.fetchFn(url + path, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (e) {
      return { kind: 'down', reason: describeFetchError(e) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const view = (parse ?? parseJobView)(json);
    if ((status >= 200 && status < 300) || status === 502) {
      // 200 done, 202 queued/running, 502 failed: all with a JobView (or
      // the answer `parse` reads).
      if (view !== null) {
        return { kind: 'view', status, view };
      }
      return { kind: 'down', reason: `HTTP ${status} without the expected body` };
    }
    if (status >= 400 && status < 500) {
      const refusal = parseKeeperErrorBody(json);
      return {
        kind: 'refused',
        error: new KeeperError(
          url,
          status,
          refusal?.error ?? `http_${status}`,
          refusal?.message ?? (text.slice(0, 200) || `HTTP ${status}`),
        ),
      };
    }
    return { kind: 'down', reason: `HTTP ${status}` };
  }
}

function unreachable(urls: readonly string[], down: readonly string[]): KeeperError {
  return new KeeperError(
    urls[urls.length - 1],
    0,
    'unreachable',
    `no keeper could be reached (${down.join('; ')})`,
  );
}

function describeFetchError(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return 'timed out';
    }
    const cause: unknown = e.cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
    }
    return e.message;
  }
  return String(e);
}
