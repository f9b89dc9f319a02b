import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where the requests of one remote model may go. A model file's own names are checked before any
 * request (checkRelativeName: nothing outside the model's folder); where a server then sends a
 * request is the server's business, within these rules:
 *
 * - a redirect goes to an http(s) URL without credentials, and never from https to plain http, so
 *   bytes fetched over TLS cannot be swapped in transit at the last hop;
 * - every connection goes to public addresses, or to addresses of the kinds the model's own host
 *   has: a model on a dev server at 127.0.0.1 may redirect within loopback, but a model on a public
 *   host may not lead a build machine to its loopback, private or link-local network (its own
 *   services, the cloud's metadata endpoint), whose answers would end up in published figures;
 * - at most MAX_REDIRECTS hops.
 *
 * The folder rule is not applied to redirect targets on purpose: hosts keep weight files elsewhere
 * (huggingface.co answers with its CDN or a signed S3 URL), and a server that redirects gains nothing
 * over one that serves other bytes at the requested URL itself. What a redirect could add is reach,
 * into networks the server cannot see and the build machine can; the address rule takes that away.
 * Every final URL that differs from the requested one is reported (info, the build log).
 * guarded-http.ts applies these rules to every request of a remote model.
 */

export type AddressKind = 'public' | 'loopback' | 'private' | 'unique-local' | 'link-local' | 'reserved';

export const MAX_REDIRECTS = 5;

/** Every address of a host name. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true })).map((entry) => entry.address);

/** A request the policy refuses; its message is the reason, as Conv1Error takes it. */
export class RefusedRequest extends Error {}

// IPv4 rules also match IPv4-mapped IPv6 addresses (::ffff:127.0.0.1, ::ffff:7f00:1): BlockList
// checks those against its IPv4 rules.
const RANGES: [Exclude<AddressKind, 'public'>, string, number][] = [
  // 0.0.0.0 and :: reach this host when connected to.
  ['loopback', '127.0.0.0', 8],
  ['loopback', '0.0.0.0', 8],
  ['loopback', '::1', 128],
  ['loopback', '::', 128],
  ['private', '10.0.0.0', 8],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  // Carrier-grade NAT, also the address space of tailnets: someone's internal network.
  ['private', '100.64.0.0', 10],
  // Benchmarking space, used inside networks (and by fake-IP DNS proxies).
  ['private', '198.18.0.0', 15],
  ['link-local', '169.254.0.0', 16],
  ['link-local', 'fe80::', 10],
  ['unique-local', 'fc00::', 7],
  ['reserved', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
  ['reserved', 'ff00::', 8],
  // IPv4-compatible IPv6 (deprecated): no public host has one.
  ['reserved', '::', 96],
];

const LISTS = new Map<Exclude<AddressKind, 'public'>, BlockList>();
for (const [kind, network, prefix] of RANGES) {
  let list = LISTS.get(kind);
  if (!list) LISTS.set(kind, (list = new BlockList()));
  list.addSubnet(network, prefix, isIP(network) === 6 ? 'ipv6' : 'ipv4');
}

/** The kind of an IPv4 or IPv6 address; RANGES are checked in order, so ::1 is loopback, not reserved. */
export function classifyAddress(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  for (const [kind, list] of LISTS) if (list.check(address, family === 6 ? 'ipv6' : 'ipv4')) return kind;
  return 'public';
}

const KIND_NAMES: Record<AddressKind, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private',
  'unique-local': 'unique local',
  'link-local': 'link-local',
  reserved: 'reserved',
};

/** A URL's host without the brackets of an IPv6 literal. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The address kinds a model's requests may reach: public ones, and every kind its own host has. */
export async function allowedKinds(start: URL, resolve: Resolver): Promise<ReadonlySet<AddressKind>> {
  const host = bareHost(start);
  const addresses = isIP(host) ? [host] : await resolve(host);
  return new Set<AddressKind>(['public', ...addresses.map(classifyAddress)]);
}

/** An address the policy keeps a model's requests from. */
export class AddressRefused extends Error {
  readonly address: string;
  readonly kind: AddressKind;
  readonly allowed: ReadonlySet<AddressKind>;

  constructor(address: string, kind: AddressKind, allowed: ReadonlySet<AddressKind>) {
    super(`${address} is a ${KIND_NAMES[kind]} address`);
    this.address = address;
    this.kind = kind;
    this.allowed = allowed;
  }

  /** As a Conv1Error's reason, for a request that ended up at `url`, `redirected` there or not. */
  reason(url: URL, redirected: boolean): string {
    const own = [...this.allowed].filter((kind) => kind !== 'public').map((kind) => KIND_NAMES[kind]);
    const rule = own.length === 0 ? 'a model on a public host may reach public addresses only' : `a model on a ${own.join(' and ')} host may reach only those and public addresses`;
    const where = redirected ? `was redirected to ${shownUrl(url)}, at` : `is on a host that now resolves to`;
    return `${where} a ${KIND_NAMES[this.kind]} address (${this.address}); ${rule}`;
  }
}

/** Throws AddressRefused for the first of `addresses` outside `allowed`. */
export function checkAddresses(addresses: readonly string[], allowed: ReadonlySet<AddressKind>): void {
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (!allowed.has(kind)) throw new AddressRefused(address, kind, allowed);
  }
}

/**
 * A lookup for http.request: the addresses a connection is made to are the ones checked, so a name
 * that answers one way to the check and another to the connection (DNS rebinding) gains nothing.
 * Node does not call it for IP literals; checkAddresses covers those before the request.
 */
export function guardedLookup(resolve: Resolver, allowed: ReadonlySet<AddressKind>): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        try {
          checkAddresses(addresses, allowed);
        } catch (error) {
          return callback(error as NodeJS.ErrnoException, []);
        }
        const usable = addresses.filter((address) => !options.family || isIP(address) === options.family);
        if (usable.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
        if (options.all) callback(null, usable.map((address) => ({ address, family: isIP(address) })));
        else callback(null, usable[0]!, isIP(usable[0]!));
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/** Where a redirect from `from` leads, or RefusedRequest when the policy forbids it. */
export function nextHop(from: URL, status: number, location: string | undefined): URL {
  let to: URL;
  try {
    to = new URL(location ?? '', from);
    if (location === undefined || location.trim() === '') throw new TypeError('no Location');
  } catch {
    throw new RefusedRequest(`was answered HTTP ${status} (a redirect) at ${shownUrl(from)} without a usable Location header`);
  }
  to.hash = '';
  if (to.protocol !== 'http:' && to.protocol !== 'https:') throw new RefusedRequest(`was redirected to a ${to.protocol} URL, not an http(s) one`);
  if (to.username || to.password) throw new RefusedRequest(`was redirected to a URL on ${to.host} carrying a user name or password`);
  if (from.protocol === 'https:' && to.protocol === 'http:') throw new RefusedRequest(`was redirected from https (${shownUrl(from)}) to plain http (${shownUrl(to)})`);
  return to;
}

/**
 * A URL as messages and logs show it: a redirect's query string is left out, since signed URLs
 * (S3, CloudFront, Hugging Face's CDN) carry in it a credential valid for a while, and build logs
 * are often public.
 */
export function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}
