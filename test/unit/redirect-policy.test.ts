/**
 * The redirect policy on its own, with URLs and an injected resolver: the test servers are all on
 * loopback, so a public start is only reachable this way (the real redirect chains are in
 * test/formats/http-source.test.ts).
 */
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  AddressRefused,
  allowedKinds,
  checkAddresses,
  classifyAddress,
  guardedLookup,
  nextHop,
  RefusedRequest,
  shownUrl,
  type AddressKind,
  type Resolver,
} from '../../src/lib/sources/redirect-policy.ts';

/** A resolver from a table, counting its calls; a name may answer differently each time. */
function resolver(table: Record<string, string[] | string[][]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    const answers = table[host];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    const nth = calls.filter((call) => call === host).length;
    calls.push(host);
    return Array.isArray(answers[0]) ? (answers as string[][])[Math.min(nth, answers.length - 1)]! : (answers as string[]);
  };
  return Object.assign(resolve, { calls });
}

function lookupWith(resolve: Resolver, allowed: ReadonlySet<AddressKind>, host: string, options: { all?: boolean; family?: number } = {}) {
  return new Promise<{ error: unknown; address: string | LookupAddress[] | undefined; family: number | undefined }>((done) =>
    guardedLookup(resolve, allowed)(host, options, (error, address, family) => done({ error, address, family })),
  );
}

describe('classifyAddress', () => {
  it.each<[string, AddressKind]>([
    ['127.0.0.1', 'loopback'],
    ['127.200.3.4', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.20', 'private'],
    ['100.64.0.7', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['224.0.0.251', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['ff02::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    // IPv4-mapped IPv6, dotted and hexadecimal: the embedded IPv4 address decides.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['203.0.113.9', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('which addresses a model may reach', () => {
  it('a public host: public addresses only; loopback, private, link-local, unique-local and mapped ones are refused', async () => {
    const resolve = resolver({ 'models.example': ['203.0.113.5', '2001:db8::5'] });
    const allowed = await allowedKinds(new URL('https://models.example/m/model.json'), resolve);
    expect([...allowed]).toEqual(['public']);
    expect(() => checkAddresses(['8.8.8.8', '2606:4700:4700::1111'], allowed)).not.toThrow();
    for (const address of ['127.0.0.1', '10.0.0.2', '169.254.169.254', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0'])
      expect(() => checkAddresses([address], allowed), address).toThrow(AddressRefused);
    // One bad address among good ones is enough: the connection could pick it.
    expect(() => checkAddresses(['8.8.8.8', '127.0.0.1'], allowed)).toThrow(AddressRefused);
  });

  it('a loopback host (a dev server, the tests): loopback and public, but not private', async () => {
    const allowed = await allowedKinds(new URL('http://localhost:4321/model.json'), resolver({ localhost: ['127.0.0.1', '::1'] }));
    expect([...allowed].sort()).toEqual(['loopback', 'public']);
    expect(() => checkAddresses(['127.0.0.1', '::1', '8.8.8.8'], allowed)).not.toThrow();
    expect(() => checkAddresses(['192.168.0.10'], allowed)).toThrow(AddressRefused);
    // IP literals are classified without a lookup.
    const resolve = resolver({});
    expect([...(await allowedKinds(new URL('http://[::1]:8080/model.json'), resolve))].sort()).toEqual(['loopback', 'public']);
    expect(resolve.calls).toEqual([]);
  });

  it('says why, for a redirect and for a host that resolves elsewhere than before', () => {
    const refusal = new AddressRefused('127.0.0.1', 'loopback', new Set(['public']));
    expect(refusal.reason(new URL('http://127.0.0.1:9/x.bin?sig=secret'), true)).toBe(
      'was redirected to http://127.0.0.1:9/x.bin?…, at a loopback address (127.0.0.1); a model on a public host may reach public addresses only',
    );
    expect(new AddressRefused('10.0.0.1', 'private', new Set<AddressKind>(['public', 'loopback'])).reason(new URL('http://a.test/'), false)).toBe(
      'is on a host that now resolves to a private address (10.0.0.1); a model on a loopback host may reach only those and public addresses',
    );
  });
});

describe('guardedLookup: the addresses connected to are the ones checked', () => {
  const publicOnly: ReadonlySet<AddressKind> = new Set(['public']);

  it('answers as dns.lookup does, one address or all, of the family asked for', async () => {
    const resolve = resolver({ 'cdn.example': ['203.0.113.7', '2001:db8::7'] });
    expect(await lookupWith(resolve, publicOnly, 'cdn.example', { all: true })).toEqual({
      error: null,
      address: [
        { address: '203.0.113.7', family: 4 },
        { address: '2001:db8::7', family: 6 },
      ],
      family: undefined,
    });
    expect(await lookupWith(resolve, publicOnly, 'cdn.example', { family: 6 })).toEqual({ error: null, address: '2001:db8::7', family: 6 });
  });

  it('refuses a public name that resolves to loopback on the connection (DNS rebinding), and passes lookup failures on', async () => {
    const resolve = resolver({ 'rebind.example': [['203.0.113.8'], ['127.0.0.1']] });
    const allowed = await allowedKinds(new URL('https://rebind.example/model.json'), resolve);
    expect([...allowed]).toEqual(['public']);
    const { error } = await lookupWith(resolve, allowed, 'rebind.example', { all: true });
    expect(error).toBeInstanceOf(AddressRefused);
    expect(error).toMatchObject({ address: '127.0.0.1', kind: 'loopback' });
    expect(resolve.calls).toEqual(['rebind.example', 'rebind.example']);
    const missing = await lookupWith(resolve, allowed, 'nowhere.example');
    expect(missing.error).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('nextHop', () => {
  const from = new URL('https://huggingface.example/org/model/resolve/main/model.safetensors');

  it('follows a relative Location, and one to another public https host, without its fragment', () => {
    expect(nextHop(from, 302, '/api/resolve-cache/abc').href).toBe('https://huggingface.example/api/resolve-cache/abc');
    expect(nextHop(from, 302, 'https://cdn-lfs.example/x/y?X-Amz-Signature=abc#frag').href).toBe('https://cdn-lfs.example/x/y?X-Amz-Signature=abc');
    expect(nextHop(new URL('http://127.0.0.1:8080/a'), 301, 'https://example.org/a').href).toBe('https://example.org/a');
  });

  it.each([
    ['http://cdn.example/model.safetensors', 'was redirected from https (https://huggingface.example/org/model/resolve/main/model.safetensors) to plain http (http://cdn.example/model.safetensors)'],
    ['file:///etc/passwd', 'was redirected to a file: URL, not an http(s) one'],
    ['https://user:pw@cdn.example/x', 'was redirected to a URL on cdn.example carrying a user name or password'],
    [undefined, 'was answered HTTP 302 (a redirect) at https://huggingface.example/org/model/resolve/main/model.safetensors without a usable Location header'],
    ['http://[bad', 'was answered HTTP 302 (a redirect) at https://huggingface.example/org/model/resolve/main/model.safetensors without a usable Location header'],
  ])('refuses a redirect to %s', (location, reason) => {
    let error: unknown;
    try {
      nextHop(from, 302, location);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RefusedRequest);
    expect((error as Error).message).toBe(reason);
  });

  it('shows URLs without their query string, which may be a signature', () => {
    expect(shownUrl(new URL('https://cdn.example/a/b.bin?X-Amz-Signature=secret&Expires=1'))).toBe('https://cdn.example/a/b.bin?…');
    expect(shownUrl(new URL('http://127.0.0.1:81/a b.bin'))).toBe('http://127.0.0.1:81/a%20b.bin');
  });
});
