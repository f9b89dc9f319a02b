import { Conv1Error, describeError } from '../errors.ts';
import { GuardedHttp, type HttpAnswer } from './guarded-http.ts';
import { checkRelativeName, type ModelFiles } from './model-files.ts';
import { MAX_REDIRECTS, RefusedRequest, shownUrl, type Resolver } from './redirect-policy.ts';

/**
 * The files of a model on an HTTP(S) server, read through range requests, so a remote model costs
 * the same bytes as a local one: its metadata and one kernel. Sizes come from HEAD (or, where a
 * server refuses HEAD, from the Content-Range of a one-byte GET) and are asked once per file.
 * Redirects are followed under the policy of redirect-policy.ts.
 */

export interface HttpModelFilesOptions {
  /** How long one request may take, redirects and body included, in milliseconds. */
  timeoutMs?: number | undefined;
  /** How long all the requests of this model may take together, in milliseconds, from the first. */
  deadlineMs?: number | undefined;
  /**
   * The most bytes accepted from a server that ignores Range and answers 200 with the full body:
   * a file up to this size is kept whole, and of a larger one this many bytes at most are read
   * before the range asked for. Beyond that the server is refused: a kernel of a few kilobytes is
   * not worth downloading a weight file of hundreds of megabytes.
   */
  fullBodyLimit?: number | undefined;
  /** Called once slowAfterMs have passed since the first request, then every progressEveryMs, while requests are in flight. */
  onProgress?: ((progress: ReadProgress) => void) | undefined;
  slowAfterMs?: number | undefined;
  progressEveryMs?: number | undefined;
  /** Called once for each file whose request ended at another URL. */
  onRedirect?: ((redirect: Redirect) => void) | undefined;
  /** Resolves host names for the address rule (tests give their own). */
  resolve?: Resolver | undefined;
}

/** A slow remote read, so far. */
export interface ReadProgress {
  /** The file whose request has waited longest. */
  url: string;
  /** Body bytes received from the server, in all. */
  received: number;
  elapsedMs: number;
}

/** A file requested at `from` and served from `to` (its query string left out, see shownUrl). */
export interface Redirect {
  from: string;
  to: string;
}

const DEFAULT_READ_TIMEOUT_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_FULL_BODY_LIMIT = 4 * 1024 * 1024;
const DEFAULT_SLOW_AFTER_MS = 5_000;
const DEFAULT_PROGRESS_EVERY_MS = 5_000;
const NETWORK_HINT =
  'Check the URL and the network connection (a proxy or firewall may block it), or download the model and point `model` at its local model.json.';
const REDIRECT_HINT = `astro-conv1 follows up to ${MAX_REDIRECTS} redirects to public http(s) addresses, never from https to http, and into loopback or private networks only from a model that is on one; serve the model's files from where they are, or download them and point \`model\` at the local model.json.`;
const DEADLINE_HINT =
  'The server is slow or stalls; allow more time (`readTimeout` in conv1(), `--timeout` on the command line, in seconds), or download the model and point `model` at the local model.json.';

export class HttpModelFiles implements ModelFiles {
  readonly label: string;
  readonly main: string;
  bytesRead = 0;
  readonly filesRead: string[] = [];
  /** Files served from another URL than requested, each pair once. */
  readonly redirects: Redirect[] = [];
  private readonly mainUrl: URL;
  private readonly folder: URL;
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly fullBodyLimit: number;
  private readonly options: HttpModelFilesOptions;
  private readonly http: GuardedHttp;
  private readonly sizes = new Map<string, Promise<number>>();
  /** Whole files a server sent instead of a range; later reads are cut from them. */
  private readonly bodies = new Map<string, Uint8Array>();
  /** Set by the first request: the model read's time limit, and when it began. */
  private deadline: { signal: AbortSignal; startedAt: number } | undefined;
  /** Files with a request in flight, oldest first, for progress lines. */
  private readonly active: string[] = [];
  private ticker: ReturnType<typeof setTimeout> | undefined;
  /** Body bytes received, used or not, for progress lines. */
  private received = 0;

  constructor(mainUrl: URL, options: HttpModelFilesOptions = {}) {
    this.mainUrl = new URL(mainUrl);
    this.mainUrl.hash = '';
    if (this.mainUrl.username || this.mainUrl.password) {
      this.mainUrl.username = this.mainUrl.password = '';
      throw new Conv1Error(this.mainUrl.href, 'carries a user name or password in the URL', 'Put the model where it can be read without credentials, or download it and point `model` at the local file.');
    }
    this.label = this.mainUrl.href;
    this.folder = new URL('.', this.mainUrl);
    this.main = decodeURIComponent(this.mainUrl.pathname.slice(this.folder.pathname.length));
    if (this.main === '')
      throw new Conv1Error(this.label, 'names a folder, not a model file', 'Point `model` at the URL of the model file itself, e.g. …/model.json.');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.fullBodyLimit = options.fullBodyLimit ?? DEFAULT_FULL_BODY_LIMIT;
    this.options = options;
    this.http = new GuardedHttp(this.mainUrl, options.resolve);
  }

  /**
   * Other files sit beside the main one and carry its query string, as tfjs's own loader does
   * (TF Hub serves model.json?tfjs-format=file and its shards with the same suffix). Beside the URL
   * given, not beside where a redirect of the main file led: CDNs keep files under content hashes,
   * and the host that redirected model.json redirects its shards too.
   */
  private url(name: string): URL {
    if (name === this.main) return this.mainUrl;
    checkRelativeName(name, this.label);
    const url = new URL(name.split('/').map(encodeURIComponent).join('/'), this.folder);
    url.search = this.mainUrl.search;
    return url;
  }

  describe(name: string): string {
    return this.url(name).href;
  }

  private countBytes(name: string, bytes: number): void {
    this.bytesRead += bytes;
    if (!this.filesRead.includes(name)) this.filesRead.push(name);
  }

  size(name: string): Promise<number> {
    const known = this.sizes.get(name);
    if (known) return known;
    const pending = this.busy(name, () => this.fetchSize(name));
    this.sizes.set(name, pending);
    // A failed lookup is not remembered, so a later call asks again.
    pending.catch(() => this.sizes.delete(name));
    return pending;
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const whole = this.bodies.get(name);
    if (whole) return this.cut(name, whole, offset, length);
    if (length === 0) return new Uint8Array(0);
    return this.busy(name, () => this.fetchRange(name, offset, length));
  }

  private async fetchRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const last = offset + length - 1;
    const response = await this.request(name, 'GET', `bytes=${offset}-${last}`);
    if (response.status === 206) {
      const range = parseContentRange(response.header('content-range'));
      // A shorter range than asked is only right when the file ends there.
      const fits = range?.start === offset && range.end !== undefined && range.end >= offset && (range.end === last || (range.end < last && range.total === range.end + 1));
      if (!range || !fits) {
        response.discard();
        throw new Conv1Error(
          this.describe(name),
          `was asked for bytes ${offset}–${last} but the server answered with the range ${JSON.stringify(response.header('content-range') ?? null)}${this.at(response)}`,
          'The server mishandles range requests; serve the model from another host, or download it and point `model` at the local model.json.',
        );
      }
      const expected = range.end! - offset + 1;
      const { bytes, ended } = await this.collect(name, response, expected + 1);
      if (!ended) throw new Conv1Error(this.describe(name), `sent more than the ${expected} bytes its Content-Range announced${this.at(response)}`, 'The server mishandles range requests; serve the model from another host.');
      if (bytes.length < expected) throw new Conv1Error(this.describe(name), `sent ${bytes.length} of the ${expected} bytes it announced${this.at(response)}`, NETWORK_HINT);
      if (expected < length) throw truncated(this.describe(name), offset, length, offset + expected);
      return bytes;
    }
    if (response.status === 416) {
      response.discard();
      const end = parseContentRange(response.header('content-range'))?.total ?? 0;
      throw truncated(this.describe(name), offset, length, end);
    }
    if (response.status === 200) return this.fromWholeFile(name, response, offset, length);
    throw this.httpError(name, response);
  }

  /**
   * The server ignored Range and sends the file from its start. A small file is kept whole; of a
   * larger one, only its start up to the end of the range is read, provided the bytes before the
   * range are few enough (format detection reads 64 bytes of a model.json that may be megabytes).
   */
  private async fromWholeFile(name: string, response: HttpAnswer, offset: number, length: number): Promise<Uint8Array> {
    if (offset > this.fullBodyLimit) {
      response.discard();
      throw this.ignoresRange(name, `the bytes needed start at ${offset}, past the ${this.fullBodyLimit} bytes astro-conv1 will download to reach them`);
    }
    const total = isEncoded(response) ? undefined : contentLength(response);
    const wanted = offset + length;
    const enough = total !== undefined && total > this.fullBodyLimit ? wanted : Math.max(wanted, this.fullBodyLimit + 1);
    const { bytes, ended } = await this.collect(name, response, enough);
    if (ended || bytes.length === total) this.keepWhole(name, bytes);
    return this.cut(name, bytes, offset, length);
  }

  private async fetchSize(name: string): Promise<number> {
    const head = await this.request(name, 'HEAD');
    head.discard();
    const length = head.status >= 200 && head.status < 300 && !isEncoded(head) ? contentLength(head) : undefined;
    if (length !== undefined) return length;
    if (head.status === 404 || head.status === 410) throw this.httpError(name, head);
    // Some servers refuse HEAD (405, or 403 on URLs signed for GET) or leave out the length: ask for one byte.
    const probe = await this.request(name, 'GET', 'bytes=0-0');
    if (probe.status === 206 || probe.status === 416) {
      const total = parseContentRange(probe.header('content-range'))?.total;
      if (probe.status === 206) await this.collect(name, probe, 2);
      else probe.discard();
      if (total !== undefined) return total;
      throw new Conv1Error(this.describe(name), `has a size the server does not tell (no Content-Length, no Content-Range total)${this.at(probe)}`, 'Serve the model from a static host or CDN, or download it and point `model` at the local model.json.');
    }
    if (probe.status === 200) {
      const total = isEncoded(probe) ? undefined : contentLength(probe);
      // A large file's size is all that is needed now; reads will ask for their own bytes.
      if (total !== undefined && total > this.fullBodyLimit) {
        probe.discard();
        return total;
      }
      const { bytes, ended } = await this.collect(name, probe, this.fullBodyLimit + 1);
      if (!ended) throw this.ignoresRange(name, `its size is not sent, and it is larger than the ${this.fullBodyLimit} bytes astro-conv1 downloads whole`);
      this.keepWhole(name, bytes);
      return bytes.length;
    }
    throw this.httpError(name, probe);
  }

  private keepWhole(name: string, body: Uint8Array): void {
    this.bodies.set(name, body);
    this.sizes.set(name, Promise.resolve(body.length));
  }

  private cut(name: string, whole: Uint8Array, offset: number, length: number): Uint8Array {
    if (offset + length > whole.length) throw truncated(this.describe(name), offset, length, Math.max(offset, whole.length));
    return whole.slice(offset, offset + length);
  }

  private async request(name: string, method: 'GET' | 'HEAD', range?: string): Promise<HttpAnswer> {
    // identity: a compressed body would make byte ranges and lengths refer to the wrong bytes.
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', 'User-Agent': 'astro-conv1' };
    if (range) headers.Range = range;
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.startDeadline()]);
    let answer: HttpAnswer;
    try {
      answer = await this.http.request(this.url(name), { method, headers, signal });
    } catch (error) {
      if (error instanceof RefusedRequest) throw new Conv1Error(this.describe(name), error.message, REDIRECT_HINT);
      throw this.networkError(name, error, signal);
    }
    if (answer.redirected) this.noteRedirect(name, answer.url);
    return answer;
  }

  private startDeadline(): AbortSignal {
    this.deadline ??= { signal: AbortSignal.timeout(this.deadlineMs), startedAt: performance.now() };
    return this.deadline.signal;
  }

  private noteRedirect(name: string, url: URL): void {
    const redirect = { from: this.describe(name), to: shownUrl(url) };
    if (this.redirects.some((known) => known.from === redirect.from && known.to === redirect.to)) return;
    this.redirects.push(redirect);
    this.options.onRedirect?.(redirect);
  }

  /** Runs a request for `name`, with progress lines while the model read is slow. */
  private async busy<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.startDeadline();
    this.active.push(name);
    if (this.options.onProgress && !this.ticker) this.ticker = this.scheduleProgress();
    try {
      return await work();
    } finally {
      this.active.splice(this.active.indexOf(name), 1);
      if (this.active.length === 0) {
        // Node's timers are one kind: this clears the first line's timeout and the interval alike.
        clearTimeout(this.ticker);
        this.ticker = undefined;
      }
    }
  }

  /**
   * The first line when the read has taken slowAfterMs, then one every progressEveryMs; after a
   * pause without requests, the next line waits progressEveryMs again.
   */
  private scheduleProgress(): ReturnType<typeof setTimeout> {
    const every = this.options.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS;
    const untilSlow = (this.options.slowAfterMs ?? DEFAULT_SLOW_AFTER_MS) - (performance.now() - this.deadline!.startedAt);
    const tick = () => this.options.onProgress?.({ url: this.describe(this.active[0]!), received: this.received, elapsedMs: performance.now() - this.deadline!.startedAt });
    return setTimeout(
      () => {
        tick();
        this.ticker = setInterval(tick, every).unref();
      },
      untilSlow > 0 ? untilSlow : every,
    ).unref();
  }

  /**
   * The body until it ends, or until `enough` bytes have come, when the rest is cancelled (the
   * connection closes) and `ended` is false.
   */
  private async collect(name: string, response: HttpAnswer, enough: number): Promise<{ bytes: Uint8Array; ended: boolean }> {
    const chunks: Uint8Array[] = [];
    let received = 0;
    let ended = true;
    try {
      for await (const chunk of response.body) {
        received += chunk.byteLength;
        this.received += chunk.byteLength;
        chunks.push(chunk);
        if (received >= enough) {
          ended = false;
          break;
        }
      }
    } catch (error) {
      throw this.networkError(name, error, response.signal);
    }
    this.countBytes(name, received);
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return { bytes, ended };
  }

  private ignoresRange(name: string, why: string): Conv1Error {
    return new Conv1Error(
      this.describe(name),
      `is served without support for range requests, and ${why}`,
      'Serve the model from a host that honours HTTP Range requests (static hosts and CDNs do), or download it and point `model` at the local model.json.',
    );
  }

  /** A failed request: the model read's time limit, the request's own, or the network. */
  private networkError(name: string, error: unknown, signal: AbortSignal): Conv1Error {
    if (this.deadline?.signal.aborted)
      return new Conv1Error(
        this.describe(name),
        `was still being read when the model read reached its time limit of ${this.deadlineMs / 1000} s (${this.received.toLocaleString('en')} bytes received in all)`,
        DEADLINE_HINT,
        { cause: error },
      );
    if (signal.aborted) return new Conv1Error(this.describe(name), `did not answer within ${this.timeoutMs / 1000} s`, NETWORK_HINT, { cause: error });
    return new Conv1Error(this.describe(name), `could not be fetched (${describeNetworkCause(error)})`, NETWORK_HINT, { cause: error });
  }

  /** Where an answer came from, for messages, when a redirect took it elsewhere. */
  private at(response: HttpAnswer): string {
    return response.redirected ? `, at ${shownUrl(response.url)}` : '';
  }

  private httpError(name: string, response: HttpAnswer): Conv1Error {
    response.discard();
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${this.at(response)}`;
    const file = this.describe(name);
    if (response.status === 404 || response.status === 410)
      return new Conv1Error(
        file,
        `does not exist on the server (${status})`,
        name === this.main
          ? 'Check the `model` option: it should be the URL of a model file such as model.json.'
          : "A file the model's manifest names is missing on the server; upload the whole model folder, not only model.json.",
      );
    if (response.status === 401 || response.status === 403)
      return new Conv1Error(file, `is not readable without credentials (${status})`, 'Make the model publicly readable, or download it and point `model` at the local file.');
    return new Conv1Error(file, `could not be fetched (${status})`, `The server failed; try again later. ${NETWORK_HINT}`);
  }
}

/**
 * Node reports a refused connection to every address of a host as an AggregateError without a
 * message, but with a code; fetch-style errors carry the socket's error as their cause.
 */
function describeNetworkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = describeError(cause);
  return message || (typeof code === 'string' ? code : 'network error');
}

function truncated(file: string, offset: number, length: number, end: number): Conv1Error {
  return new Conv1Error(file, `is truncated: needed bytes ${offset}–${offset + length} but the file ends at ${end}`, 'The file is incomplete on the server; upload or export the model again.');
}

function contentLength(response: HttpAnswer): number | undefined {
  const header = response.header('content-length');
  const value = header === undefined ? Number.NaN : Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A Content-Encoding other than identity makes Content-Length count compressed bytes. */
function isEncoded(response: HttpAnswer): boolean {
  const encoding = response.header('content-encoding');
  return encoding !== undefined && encoding.toLowerCase() !== 'identity';
}

// "bytes 0-99/1234" gives start 0, end 99, total 1234; "bytes */1234" (sent with 416) the total only.
function parseContentRange(header: string | undefined): { start?: number; end?: number; total?: number } | undefined {
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const range: { start?: number; end?: number; total?: number } = {};
  if (match[1] !== undefined) [range.start, range.end] = [Number(match[1]), Number(match[2])];
  if (match[3] !== '*') range.total = Number(match[3]);
  return range;
}
