import { Conv1Error, describeError } from '../errors.ts';
import { checkRelativeName, type ModelFiles } from './model-files.ts';

/**
 * The files of a model on an HTTP(S) server, read through range requests, so a remote model costs
 * the same bytes as a local one: its metadata and one kernel. Sizes come from HEAD (or, where a
 * server refuses HEAD, from the Content-Range of a one-byte GET) and are asked once per file.
 */

export interface HttpModelFilesOptions {
  /** How long one request may take, body included, in milliseconds. */
  timeoutMs?: number;
  /**
   * The largest file accepted whole from a server that ignores Range and answers 200 with the
   * full body. Above it such a server is refused: a kernel of a few kilobytes is not worth
   * downloading a weight file of hundreds of megabytes.
   */
  fullBodyLimit?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_FULL_BODY_LIMIT = 4 * 1024 * 1024;
const NETWORK_HINT =
  'Check the URL and the network connection (a proxy or firewall may block it), or download the model and point `model` at its local model.json.';

export class HttpModelFiles implements ModelFiles {
  readonly label: string;
  readonly main: string;
  bytesRead = 0;
  readonly filesRead: string[] = [];
  private readonly mainUrl: URL;
  private readonly folder: URL;
  private readonly timeoutMs: number;
  private readonly fullBodyLimit: number;
  private readonly sizes = new Map<string, Promise<number>>();
  /** Whole files a server sent instead of a range; later reads are cut from them. */
  private readonly bodies = new Map<string, Uint8Array>();

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
    this.fullBodyLimit = options.fullBodyLimit ?? DEFAULT_FULL_BODY_LIMIT;
  }

  /**
   * Other files sit beside the main one and carry its query string, as tfjs's own loader does
   * (TF Hub serves model.json?tfjs-format=file and its shards with the same suffix).
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

  localPath(): undefined {
    return undefined;
  }

  countBytes(name: string, bytes: number): void {
    this.bytesRead += bytes;
    if (!this.filesRead.includes(name)) this.filesRead.push(name);
  }

  size(name: string): Promise<number> {
    const known = this.sizes.get(name);
    if (known) return known;
    const pending = this.fetchSize(name);
    this.sizes.set(name, pending);
    // A failed lookup is not remembered, so a later call asks again.
    pending.catch(() => this.sizes.delete(name));
    return pending;
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const whole = this.bodies.get(name);
    if (whole) return this.cut(name, whole, offset, length);
    if (length === 0) return new Uint8Array(0);
    const last = offset + length - 1;
    const response = await this.request(name, 'GET', `bytes=${offset}-${last}`);
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      // A shorter range than asked is only right when the file ends there.
      const fits = range?.start === offset && range.end !== undefined && range.end >= offset && (range.end === last || (range.end < last && range.total === range.end + 1));
      if (!range || !fits) {
        await response.body?.cancel();
        throw new Conv1Error(
          this.describe(name),
          `was asked for bytes ${offset}–${last} but the server answered with the range ${JSON.stringify(response.headers.get('content-range'))}`,
          'The server mishandles range requests; serve the model from another host, or download it and point `model` at the local model.json.',
        );
      }
      const expected = range.end! - offset + 1;
      const body = await this.readBody(name, response, expected, () => new Conv1Error(this.describe(name), `sent more than the ${expected} bytes its Content-Range announced`, 'The server mishandles range requests; serve the model from another host.'));
      if (body.length < expected) throw new Conv1Error(this.describe(name), `sent ${body.length} of the ${expected} bytes it announced`, NETWORK_HINT);
      if (expected < length) throw truncated(this.describe(name), offset, length, offset + expected);
      return body;
    }
    if (response.status === 416) {
      await response.body?.cancel();
      const end = parseContentRange(response.headers.get('content-range'))?.total ?? 0;
      throw truncated(this.describe(name), offset, length, end);
    }
    if (response.status === 200) {
      // The server ignored Range. Accept the whole file if it is small, or if it is exactly what was asked.
      const limit = offset === 0 ? Math.max(this.fullBodyLimit, length) : this.fullBodyLimit;
      const body = await this.readBody(name, response, limit, () => this.ignoresRange(name));
      this.keepWhole(name, body);
      return this.cut(name, body, offset, length);
    }
    throw await this.httpError(name, response);
  }

  private async fetchSize(name: string): Promise<number> {
    const head = await this.request(name, 'HEAD');
    const length = head.ok && !isEncoded(head) ? contentLength(head) : undefined;
    if (length !== undefined) return length;
    if (head.status === 404 || head.status === 410) throw await this.httpError(name, head);
    // Some servers refuse HEAD (405, or 403 on URLs signed for GET) or leave out the length: ask for one byte.
    const probe = await this.request(name, 'GET', 'bytes=0-0');
    if (probe.status === 206 || probe.status === 416) {
      const total = parseContentRange(probe.headers.get('content-range'))?.total;
      if (probe.status === 206) await this.readBody(name, probe, 1, () => this.ignoresRange(name));
      else await probe.body?.cancel();
      if (total !== undefined) return total;
      throw new Conv1Error(this.describe(name), 'has a size the server does not tell (no Content-Length, no Content-Range total)', 'Serve the model from a static host or CDN, or download it and point `model` at the local model.json.');
    }
    if (probe.status === 200) {
      const body = await this.readBody(name, probe, this.fullBodyLimit, () => this.ignoresRange(name));
      this.keepWhole(name, body);
      return body.length;
    }
    throw await this.httpError(name, probe);
  }

  private keepWhole(name: string, body: Uint8Array): void {
    this.bodies.set(name, body);
    this.sizes.set(name, Promise.resolve(body.length));
  }

  private cut(name: string, whole: Uint8Array, offset: number, length: number): Uint8Array {
    if (offset + length > whole.length) throw truncated(this.describe(name), offset, length, Math.max(offset, whole.length));
    return whole.slice(offset, offset + length);
  }

  private async request(name: string, method: 'GET' | 'HEAD', range?: string): Promise<Response> {
    // identity: a compressed body would make byte ranges and lengths refer to the wrong bytes.
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (range) headers.Range = range;
    try {
      return await fetch(this.url(name), { method, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.networkError(name, error);
    }
  }

  /** Reads a body of at most `limit` bytes; a longer one is cancelled and `tooLarge` thrown. */
  private async readBody(name: string, response: Response, limit: number, tooLarge: () => Conv1Error): Promise<Uint8Array> {
    const declared = contentLength(response);
    if (declared !== undefined && declared > limit) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    try {
      // Leaving the loop early cancels the stream, so an oversized body stops downloading.
      for await (const chunk of response.body ?? []) {
        received += chunk.byteLength;
        if (received > limit) break;
        chunks.push(chunk);
      }
    } catch (error) {
      throw this.networkError(name, error);
    }
    if (received > limit) throw tooLarge();
    this.countBytes(name, received);
    const out = new Uint8Array(received);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  private ignoresRange(name: string): Conv1Error {
    return new Conv1Error(
      this.describe(name),
      `is served without support for range requests, and is larger than the ${this.fullBodyLimit} bytes astro-conv1 downloads whole`,
      'Serve the model from a host that honours HTTP Range requests (static hosts and CDNs do), or download it and point `model` at the local model.json.',
    );
  }

  private networkError(name: string, error: unknown): Conv1Error {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'));
    // fetch wraps the socket's error ("fetch failed"); the cause says what happened.
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const reason = timedOut ? `did not answer within ${this.timeoutMs / 1000} s` : `could not be fetched (${describeNetworkCause(cause)})`;
    return new Conv1Error(this.describe(name), reason, NETWORK_HINT, { cause: error });
  }

  private async httpError(name: string, response: Response): Promise<Conv1Error> {
    await response.body?.cancel();
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
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

/** Node reports a refused connection to every address of a host as an AggregateError without a message, but with a code. */
function describeNetworkCause(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = describeError(cause);
  return message || (typeof code === 'string' ? code : 'network error');
}

function truncated(file: string, offset: number, length: number, end: number): Conv1Error {
  return new Conv1Error(file, `is truncated: needed bytes ${offset}–${offset + length} but the file ends at ${end}`, 'The file is incomplete on the server; upload or export the model again.');
}

function contentLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  const value = header === null ? Number.NaN : Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A Content-Encoding other than identity makes Content-Length count compressed bytes. */
function isEncoded(response: Response): boolean {
  const encoding = response.headers.get('content-encoding');
  return encoding !== null && encoding.toLowerCase() !== 'identity';
}

// "bytes 0-99/1234" gives start 0, end 99, total 1234; "bytes */1234" (sent with 416) the total only.
function parseContentRange(header: string | null): { start?: number; end?: number; total?: number } | undefined {
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const range: { start?: number; end?: number; total?: number } = {};
  if (match[1] !== undefined) [range.start, range.end] = [Number(match[1]), Number(match[2])];
  if (match[3] !== '*') range.total = Number(match[3]);
  return range;
}
