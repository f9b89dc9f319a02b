import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { AddressRefused, allowedKinds, bareHost, checkAddresses, guardedLookup, MAX_REDIRECTS, nextHop, RefusedRequest, shownUrl, systemResolver, type AddressKind, type Resolver } from './redirect-policy.ts';

/**
 * HTTP(S) requests for one remote model under the redirect policy (redirect-policy.ts): redirects
 * are followed here, hop by hop, and every connection's addresses are checked as it is made. Built
 * on node:http rather than fetch, whose connections cannot be given a lookup of their own.
 */

export interface HttpAnswer {
  status: number;
  /** The status line's text, as the server sent it. */
  statusText: string;
  /** Where the answer came from: the requested URL, or the last hop of its redirects. */
  url: URL;
  redirected: boolean;
  /** Aborts the request, body included: its time limit and the model read's. */
  signal: AbortSignal;
  header(name: string): string | undefined;
  body: AsyncIterable<Uint8Array>;
  /** Lets go of a body that will not be read. */
  discard(): void;
}

export interface RequestInit {
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  signal: AbortSignal;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Bodies up to this size are drained when discarded, so their connection can be used again. */
const DRAIN_LIMIT = 64 * 1024;

export class GuardedHttp {
  private readonly start: URL;
  private readonly resolve: Resolver;
  private allowed: Promise<ReadonlySet<AddressKind>> | undefined;
  // Agents of this model's own: a pooled connection was checked against this model's rule, and
  // must not serve another model's requests, whose host may allow less.
  private readonly agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

  /** `start` is the model's own URL, whose host decides which addresses its requests may reach. */
  constructor(start: URL, resolve: Resolver = systemResolver) {
    this.start = start;
    this.resolve = resolve;
  }

  /** Sends the request and follows its redirects; RefusedRequest when the policy forbids a hop. */
  async request(url: URL, init: RequestInit): Promise<HttpAnswer> {
    const allowed = await abortable(this.allowedKinds(), init.signal);
    const chain = [url];
    for (;;) {
      const at = chain.at(-1)!;
      const answer = await this.send(at, init, allowed, chain.length > 1);
      if (!REDIRECT_STATUSES.has(answer.status)) return answer;
      answer.discard();
      const next = nextHop(at, answer.status, answer.header('location'));
      const looped = chain.some((hop) => hop.href === next.href);
      if (looped || chain.length > MAX_REDIRECTS) {
        const shown = [...chain, next].map((hop, i) => (i === 0 ? hop.href : shownUrl(hop))).join(' → ');
        throw new RefusedRequest(looped ? `is redirected in a loop: ${shown}` : `was redirected more than ${MAX_REDIRECTS} times: ${shown}`);
      }
      chain.push(next);
    }
  }

  private allowedKinds(): Promise<ReadonlySet<AddressKind>> {
    if (!this.allowed) {
      this.allowed = allowedKinds(this.start, this.resolve);
      // A failed lookup (no network yet) is not remembered.
      this.allowed.catch(() => (this.allowed = undefined));
    }
    return this.allowed;
  }

  private async send(url: URL, init: RequestInit, allowed: ReadonlySet<AddressKind>, redirected: boolean): Promise<HttpAnswer> {
    try {
      // Node connects to an IP literal without a lookup.
      const host = bareHost(url);
      checkAddresses(isIP(host) ? [host] : [], allowed);
      const message = await new Promise<IncomingMessage>((resolve, reject) => {
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const request = send(url, { ...init, agent: this.agents[url.protocol as 'http:' | 'https:'], lookup: guardedLookup(this.resolve, allowed) }, resolve);
        // Not once: an error after the answer (an abort while its body is read) must find a listener too.
        request.on('error', reject);
        request.end();
      });
      return answerOf(url, redirected, init.signal, message);
    } catch (error) {
      if (error instanceof AddressRefused) throw new RefusedRequest(error.reason(url, redirected));
      throw error;
    }
  }
}

function answerOf(url: URL, redirected: boolean, signal: AbortSignal, message: IncomingMessage): HttpAnswer {
  return {
    status: message.statusCode ?? 0,
    statusText: message.statusMessage ?? '',
    url,
    redirected,
    signal,
    header(name) {
      const value = message.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: message,
    discard() {
      if (message.complete || Number(message.headers['content-length']) <= DRAIN_LIMIT) message.resume();
      else message.destroy();
    },
  };
}

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
