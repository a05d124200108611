import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  connectionGroupOf,
  ipBanKeys,
  ipKeyBytes,
  ipSubject,
  isPublicIp,
  normalizeIp,
} from '../../../src/p2p/ip-address.js';

/** Deterministic PRNG (mulberry32) so a failing case reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Independent canonical IPv6 text: the WHATWG URL parser compresses per RFC 5952 too. */
const urlCanonical = (ip6: string) => new URL(`http://[${ip6}]/`).hostname.slice(1, -1);

/** Random IPv6 words, biased to zeros so that runs of every length and position occur. */
function randomWords(r: () => number): number[] {
  return Array.from({ length: 8 }, () =>
    r() < 0.45 ? 0 : r() < 0.5 ? Math.floor(r() * 16) : Math.floor(r() * 65536),
  );
}

/** One of the many spellings of the same address: full form, mixed case, leading zeros, brackets, zone. */
function spell(words: number[], r: () => number): string {
  let t = words
    .map((w) => {
      const h = w.toString(16).padStart(r() < 0.3 ? 4 : 1, '0');
      return r() < 0.5 ? h.toUpperCase() : h;
    })
    .join(':');
  if (r() < 0.2) t = `${t}%eth${Math.floor(r() * 3)}`;
  return r() < 0.3 ? `[${t}]` : t;
}

describe('normalizeIp: one canonical text per address, nothing that is not an IP literal', () => {
  it.each([
    // IPv4 as given, whitespace and brackets removed
    ['1.2.3.4', '1.2.3.4'],
    ['255.255.255.255', '255.255.255.255'],
    ['  10.0.0.1\n', '10.0.0.1'],
    ['\t[1.2.3.4] ', '1.2.3.4'],
    // IPv6: lower case, leading zeros dropped, the longest zero run (first on a tie, >= 2) as ::
    ['[::1]', '::1'],
    ['::', '::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['a:b:c:d:e:f:1:2', 'a:b:c:d:e:f:1:2'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['0:0:1:2:3:4:5:6', '::1:2:3:4:5:6'],
    ['0:1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:0:0', '1:2:3:4:5:6::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['[2001:DB8:0:0:1:0:0:1]', '2001:db8::1:0:0:1'],
    ['FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    // IPv4-mapped IPv6 (what a dual-stack socket reports) is the IPv4 peer
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:10.20.30.40', '10.20.30.40'],
    ['[::ffff:127.0.0.1]', '127.0.0.1'],
    ['0:0:0:0:0:ffff:0102:0304', '1.2.3.4'],
    ['::ffff:0:0', '0.0.0.0'],
    ['::ffff:ffff:ffff', '255.255.255.255'],
    // ... but nothing else with a dotted tail or an ffff word is IPv4
    ['::1.2.3.4', '::102:304'],
    ['::1:2', '::1:2'],
    ['1::ffff:1.2.3.4', '1::ffff:102:304'],
    ['0:0:0:0:1:ffff:102:304', '::1:ffff:102:304'],
    ['::fffe:1.2.3.4', '::fffe:102:304'],
    ['::ffff:1:2:3', '::ffff:1:2:3'],
    ['64:ff9b::10.20.30.40', '64:ff9b::a14:1e28'],
    ['1:2:3:4:5:6:77.88.99.100', '1:2:3:4:5:6:4d58:6364'],
    // zone ids name a local interface: dropped, whatever characters they hold
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
    ['fe80::%1', 'fe80::'],
    ['fe80::1:2.3.4.5%eth0', 'fe80::1:203:405'],
    ['fe80::1%1.2.3.4', 'fe80::1'],
    ['fe80::1%:1', 'fe80::1'],
    ['::ffff:1.2.3.4%eth0', '1.2.3.4'],
  ])('%j -> %s', (input, canonical) => {
    expect(normalizeIp(input)).toBe(canonical);
    expect(normalizeIp(canonical)).toBe(canonical); // canonical text is a fixed point
  });

  it.each([
    '',
    '   ',
    'localhost',
    'seed.example.org',
    'cafe',
    'dead:beef',
    // IPv4 shorthands a resolver would accept but a peer list must not use
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.256',
    '1.2.3.4.5',
    '1.2.3.4%eth0',
    // unbalanced or doubled brackets
    '[1.2.3.45',
    'x1.2.3.4]',
    '1.2.3.4]',
    '[::1',
    '::1]',
    '[[::1]]',
    '[]',
    // malformed IPv6
    '1::2::3',
    ':::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8g',
    '1:2:3:4:5:6:7:-1',
    '12345::1',
    '1:2:3:4:5:6:7::8',
    '1:2:3:4:5:6::1.2.3.4',
    '::ffff:1.2.3.256',
    '::ffff:01.2.3.4',
    'fe80::1%',
    'gggg::1',
  ])('%j is not an IP literal', (input) => {
    expect(normalizeIp(input)).toBeUndefined();
  });

  it('agrees with node:net and the URL parser on hundreds of spellings of random addresses', () => {
    const r = rng(1);
    for (let n = 0; n < 400; n++) {
      const words = randomWords(r);
      const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
      const text = spell(words, r);
      const got = normalizeIp(text);
      const full = words.map((w) => w.toString(16)).join(':');
      const expected = mapped
        ? [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff].join('.')
        : urlCanonical(full);
      expect(got, text).toBe(expected);
      // the same address: node:net's BlockList matches one against the other
      const bl = new BlockList();
      bl.addAddress(full, 'ipv6');
      expect(bl.check(got!, isIP(got!) === 4 ? 'ipv4' : 'ipv6'), text).toBe(true);
    }
  });

  it('every IPv4 spelling through IPv4-mapped IPv6 lands on the dotted quad', () => {
    const r = rng(2);
    for (let n = 0; n < 200; n++) {
      const b = Array.from({ length: 4 }, () => Math.floor(r() * 256));
      const quad = b.join('.');
      const w6 = ((b[0]! << 8) | b[1]!).toString(16);
      const w7 = ((b[2]! << 8) | b[3]!).toString(16);
      for (const s of [
        quad,
        `::ffff:${quad}`,
        `::FFFF:${w6}:${w7}`,
        `0:0:0:0:0:ffff:${quad}`,
        `[::ffff:${w6}:${w7}]`,
      ]) {
        expect(normalizeIp(s), s).toBe(quad);
      }
    }
  });
});

describe('connectionGroupOf: the /24 (IPv4) or /48 (IPv6) pending and inbound limits count per network', () => {
  it.each([
    ['10.1.2.3', '10.1.2.0/24'],
    ['::ffff:10.1.2.3', '10.1.2.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['2a01:4f8:77:ab00::1', '2a01:4f8:77::/48'],
    ['2a01:4f8:77:ffff:ffff:ffff:ffff:ffff', '2a01:4f8:77::/48'],
    ['2A01:04F8:0077:0001::1%eth0', '2a01:4f8:77::/48'],
    ['2a01:4f8::1', '2a01:4f8::/48'],
    ['2a01:0:4f8::1', '2a01:0:4f8::/48'],
    ['64:ff9b::a01:203', '10.1.2.0/24'], // the IPv4 host a NAT64, 6to4 or Teredo address names
    ['2002:a01:203:4::1', '10.1.2.0/24'],
    ['2001:0:4136:e378:8000:63bf:f5fe:fdfc', '10.1.2.0/24'],
    ['seed.example.org', 'seed.example.org'],
  ])('%s is in %s', (ip, group) => {
    expect(connectionGroupOf(ip)).toBe(group);
  });

  it('two IPv6 addresses share a group exactly when node:net puts them in the same /48', () => {
    const r = rng(10);
    for (let n = 0; n < 500; n++) {
      const a = randomWords(r).map((w) => w || 1);
      const b =
        r() < 0.5 ? [...a.slice(0, 3), ...randomWords(r).slice(3)] : randomWords(r).map((w) => w || 2);
      if (r() < 0.3) b[2] = a[2]! ^ (1 << Math.floor(r() * 16)); // neighbour /48
      if (namesIpv4(a) || namesIpv4(b)) continue;
      const [ta, tb] = [a, b].map((w) => w.map((x) => x.toString(16)).join(':')) as [string, string];
      const bl = new BlockList();
      bl.addSubnet(ta, 48, 'ipv6');
      expect(connectionGroupOf(ta) === connectionGroupOf(tb), `${ta} ${tb}`).toBe(bl.check(tb, 'ipv6'));
    }
  });
});

/**
 * The non-public ranges, straight from the IANA special-purpose registries, as node:net BlockList
 * rules: the oracle the classification is compared with.
 */
const V4_RANGES: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link local
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const V6_RANGES: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link local
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
];
const notPublic = new BlockList();
for (const [net, len] of V4_RANGES) notPublic.addSubnet(net, len, 'ipv4');
for (const [net, len] of V6_RANGES) notPublic.addSubnet(net, len, 'ipv6');
/**
 * Addresses that embed an IPv4 address (RFC 6052 NAT64, RFC 3056 6to4, RFC 4380 Teredo) are
 * judged by it; 64:ff9b:1::/48 (RFC 8215, local-use NAT64) and the rest of 64:ff9b::/32 never
 * public.
 */
const subnet = (net: string, len: number) => {
  const b = new BlockList();
  b.addSubnet(net, len, 'ipv6');
  return (ip: string) => b.check(ip, 'ipv6');
};
const inNat64 = subnet('64:ff9b::', 96);
const in64ff9b = subnet('64:ff9b::', 32);
const in6to4 = subnet('2002::', 16);
const inTeredo = subnet('2001::', 32);
const oraclePublic = (ip: string): boolean => {
  if (isIP(ip) === 4) return !notPublic.check(ip, 'ipv4');
  const n: bigint = v6ToBig(ip);
  const v4 = (x: bigint) => intToV4(Number(x & 0xffffffffn));
  if (inNat64(ip)) return oraclePublic(v4(n));
  if (in64ff9b(ip)) return false;
  if (in6to4(ip)) return oraclePublic(v4(n >> 80n));
  if (inTeredo(ip)) return oraclePublic(v4(n >> 64n)) && oraclePublic(v4(~n));
  return !notPublic.check(ip, 'ipv6');
};

const v4ToInt = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
const intToV4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const v6ToBig = (ip: string) => {
  const [h, t] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const hs = h ? h.split(':') : [];
  const ts = t ? t.split(':') : [];
  const all = [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return all.reduce((n, x) => (n << 16n) | BigInt(Number.parseInt(x, 16)), 0n);
};
const bigToV6 = (n: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16)).join(':');

describe('isPublicIp: peer lists must not steer us to local, private or reserved addresses', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['192.168.1.1', false],
    ['2a01:4f8::1', true],
    ['2606:4700:4700::1111', true],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    // ordinary unicast next to the documentation /24s (e.g. 192.0.78.0/24 is a hosting provider)
    ['192.0.1.1', true],
    ['192.0.78.9', true],
    ['198.51.0.1', true],
    ['198.51.101.1', true],
    ['203.0.0.1', true],
    ['203.0.112.255', true],
    ['203.0.114.0', true],
  ])('%s -> %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });

  it('is exact at both edges of every IPv4 range (first, last, and the addresses just outside)', () => {
    for (const [net, len] of V4_RANGES) {
      const first = v4ToInt(net);
      const last = first + 2 ** (32 - len) - 1;
      expect(isPublicIp(intToV4(first)), intToV4(first)).toBe(false);
      expect(isPublicIp(intToV4(last)), intToV4(last)).toBe(false);
      for (const n of [first - 1, last + 1].filter((x) => x >= 0 && x < 2 ** 32)) {
        expect(isPublicIp(intToV4(n)), intToV4(n)).toBe(oraclePublic(intToV4(n)));
      }
    }
  });

  it('matches the registry across the first and second octets that matter, and random addresses', () => {
    const r = rng(4);
    // every octet that starts or ends a range, its neighbours, and a few ordinary ones
    const edges = [0, 1, 2, 9, 10, 11, 15, 16, 17, 18, 19, 20, 31, 32, 50, 51, 52, 63, 64, 65, 99, 100, 101];
    const interesting = [...edges, 126, 127, 128, 167, 168, 169, 170, 171, 172, 173, 191, 192, 193, 197, 198];
    interesting.push(199, 202, 203, 204, 223, 224, 239, 240, 253, 254, 255);
    const check = (ip: string) => {
      if (isPublicIp(ip) !== oraclePublic(ip)) expect.fail(`${ip}: isPublicIp ${isPublicIp(ip)}`);
    };
    for (const a of interesting) {
      for (const b of interesting)
        for (const c of [0, 1, 2, 3, 99, 100, 112, 113, 114]) check(`${a}.${b}.${c}.9`);
      for (let b = 0; b < 256; b++) check(`${a}.${b}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
    }
    for (let n = 0; n < 1_000; n++) check(Array.from({ length: 4 }, () => Math.floor(r() * 256)).join('.'));
    for (const ab of ['192.0', '198.51', '203.0']) {
      for (let c = 0; c < 256; c++)
        expect(isPublicIp(`${ab}.${c}.7`), `${ab}.${c}.7`).toBe(oraclePublic(`${ab}.${c}.7`));
    }
  });

  it('is exact at both edges of every IPv6 range', () => {
    for (const [net, len] of V6_RANGES) {
      const first = v6ToBig(net);
      const last = first + (1n << BigInt(128 - len)) - 1n;
      for (const n of [first, last]) expect(isPublicIp(bigToV6(n)), bigToV6(n)).toBe(false);
      for (const n of [first - 1n, last + 1n].filter((x) => x >= 0n && x < 1n << 128n)) {
        // ::2 (just past ::1) sits in the reserved ::/8 and is left out of the comparison
        if (n >> 16n === 0n) continue;
        expect(isPublicIp(bigToV6(n)), bigToV6(n)).toBe(oraclePublic(bigToV6(n)));
      }
    }
  });

  it('matches the registry at every /10 edge of the first word, and around 2001:db8::/32', () => {
    const r = rng(7);
    const check = (ip: string) => {
      if (isPublicIp(ip) !== oraclePublic(ip)) expect.fail(`${ip}: isPublicIp ${isPublicIp(ip)}`);
    };
    // the ranges are /7, /8 and /10: their edges are multiples of 0x40 in the first word
    for (let w = 0x40; w <= 0xffff; w += 0x40)
      for (const x of [w - 1, w]) check(`${x.toString(16)}:${r() < 0.5 ? 'db8' : '1'}::1`);
    for (let n = 0; n < 2_000; n++)
      check(
        randomWords(r)
          .map((w, i) => (i === 0 ? w || 0x2a01 : w).toString(16))
          .join(':'),
      );
    for (const w0 of [0x2000, 0x2001, 0x2002, 0x3001]) {
      for (let w1 = 0xd00; w1 <= 0xe00; w1++) check(`${w0.toString(16)}:${w1.toString(16)}::1`);
    }
  });

  it('no spelling of a local address survives normalization as public', () => {
    for (const s of [
      '127.0.0.1',
      ' 127.0.0.1 ',
      '[::ffff:127.0.0.1]',
      '::FFFF:7f00:1',
      '0:0:0:0:0:ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:192.168.0.1%eth0',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '0000:0000:0000:0000:0000:0000:0000:0001',
      '::',
      'fe80::1%eth0',
      '[fe80::1%25eth0]',
      'FD00::1',
      'ff02::1%lo',
    ]) {
      const ip = normalizeIp(s);
      expect(ip, s).toBeDefined();
      expect(isPublicIp(ip!), s).toBe(false);
    }
  });

  it('a text that is not an IP address is never public', () => {
    for (const s of [
      'seed.example.org',
      'localhost',
      'cafe',
      '',
      '1::2::3',
      '1.2.3.4::',
      '1:2:3:4:5:6:7:8g',
      '1:2:3:4:5:6:7:10000',
      '1:2:3:4:5:6:7:-1',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::9',
      '2a01:4f8::1::',
    ]) {
      expect(isPublicIp(s), s).toBe(false);
    }
  });
});

/** IPv6 words that name one IPv4 host (mapped, NAT64, 6to4, Teredo): their subject is that host. */
const namesIpv4 = (w: readonly number[]) =>
  (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) ||
  (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) ||
  w[0] === 0x2002 ||
  (w[0] === 0x2001 && w[1] === 0);

describe('ipSubject: what per-IP rules count as one peer (an IPv4 address, an IPv6 /64)', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['::ffff:198.51.100.7', '198.51.100.7'], // IPv4-mapped: the IPv4 peer
    ['[::FFFF:c633:6407]', '198.51.100.7'],
    ['2a01:4f8:10:20::1', '2a01:4f8:10:20::/64'],
    ['2a01:4f8:10:20:ffff:ffff:ffff:ffff', '2a01:4f8:10:20::/64'],
    ['2A01:04F8:0010:0020:0:0:0:1%eth0', '2a01:4f8:10:20::/64'],
    ['2a01:4f8::1', '2a01:4f8::/64'],
    ['2a01:0:0:1::1', '2a01:0:0:1::/64'],
    ['::1', '::/64'],
    ['64:ff9b::c633:6407', '198.51.100.7'], // NAT64: the IPv4 host behind the translator
    ['64:1::c633:6407', '64:1::/64'], // not the NAT64 prefix: an ordinary /64
    ['65:ff9b::c633:6407', '65:ff9b::/64'],
    ['64:ff9b:1::c633:6407', '64:ff9b:1::/64'], // local-use NAT64: where the IPv4 sits is unknown
    ['2002:c633:6407::1', '198.51.100.7'], // 6to4: its 65,536 /64s are one IPv4 host's
    ['2002:c633:6407:ffff::1', '198.51.100.7'],
    ['2001:0:4136:e378:8000:63bf:39cc:9bf8', '198.51.100.7'], // Teredo: the client, any server/port
    ['2001:0:102:304:0:1:39cc:9bf8', '198.51.100.7'],
    ['seed.example.org', 'seed.example.org'],
    ['', ''],
  ])('%s → %s', (ip, subject) => {
    expect(ipSubject(ip)).toBe(subject);
  });

  it('two IPv6 addresses are one subject exactly when node:net puts them in the same /64', () => {
    const r = rng(9);
    for (let n = 0; n < 500; n++) {
      const a = randomWords(r).map((w) => w || 1);
      const b =
        r() < 0.5 ? [...a.slice(0, 4), ...randomWords(r).slice(4)] : randomWords(r).map((w) => w || 2);
      if (r() < 0.3) b[3] = a[3]! ^ (1 << Math.floor(r() * 16)); // neighbour /64
      if (namesIpv4(a) || namesIpv4(b)) continue;
      const [ta, tb] = [a, b].map((w) => w.map((x) => x.toString(16)).join(':')) as [string, string];
      const bl = new BlockList();
      bl.addSubnet(ta, 64, 'ipv6');
      expect(ipSubject(ta) === ipSubject(tb), `${ta} ${tb}`).toBe(bl.check(tb, 'ipv6'));
      expect(ipSubject(spell(b, r)), tb).toBe(ipSubject(tb));
    }
  });
});

describe('ipKeyBytes: the 16-byte ban key of an IP subject', () => {
  it.each([
    ['1.2.3.4', '00000000000000000000ffff01020304'],
    ['255.255.255.255', '00000000000000000000ffffffffffff'],
    ['0.0.0.0', '00000000000000000000ffff00000000'],
    ['2001:db8::1', '20010db8000000000000000000000000'],
    ['1234:5678:9abc:def0:1:2:3:4', '123456789abcdef00000000000000000'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000000'],
    ['fe80::1%eth0', 'fe800000000000000000000000000000'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffffffffffff0000000000000000'],
    ['2002:102:304:5::6', '00000000000000000000ffff01020304'], // 6to4 of 1.2.3.4
    ['64:ff9b::102:304', '00000000000000000000ffff01020304'], // NAT64 of 1.2.3.4
    ['2001:0:4136:e378:8000:63bf:fefd:fcfb', '00000000000000000000ffff01020304'], // Teredo client 1.2.3.4
    ['seed.example.org', '00000000000000000000000000000000'],
  ])('%s -> %s', (ip, key) => {
    expect(hex(ipKeyBytes(ip))).toBe(key);
  });

  it('a ban on an IPv4 peer also holds when it comes back as IPv4-mapped IPv6, and vice versa', () => {
    const r = rng(5);
    for (let n = 0; n < 500; n++) {
      const quad = Array.from({ length: 4 }, () => Math.floor(r() * 256)).join('.');
      expect(hex(ipKeyBytes(`::ffff:${quad}`))).toBe(hex(ipKeyBytes(quad)));
      expect(hex(ipKeyBytes(normalizeIp(`[::FFFF:${quad}]`)!))).toBe(hex(ipKeyBytes(quad)));
    }
    // the IPv4-compatible form is a different address (in ::/64)
    expect(hex(ipKeyBytes('::1.2.3.4'))).not.toBe(hex(ipKeyBytes('1.2.3.4')));
  });

  it('every spelling of an IPv6 address gives its /64 as key; two addresses share a key exactly when they share a subject', () => {
    const r = rng(6);
    const seen = new Map<string, string>();
    for (let n = 0; n < 500; n++) {
      const words = randomWords(r);
      if (namesIpv4(words)) continue;
      const full = words.map((w) => w.toString(16)).join(':');
      const expected = `${words
        .slice(0, 4)
        .map((w) => w.toString(16).padStart(4, '0'))
        .join('')}${'0'.repeat(16)}`;
      expect(hex(ipKeyBytes(full)), full).toBe(expected);
      expect(hex(ipKeyBytes(spell(words, r))), full).toBe(expected);
      const other = seen.get(expected);
      if (other !== undefined) expect(ipSubject(other)).toBe(ipSubject(full));
      seen.set(expected, full);
    }
  });
});

describe('ipBanKeys: the subject key, and the exact address bans were once written under', () => {
  it.each([
    ['1.2.3.4', ['00000000000000000000ffff01020304']],
    ['::ffff:1.2.3.4', ['00000000000000000000ffff01020304']],
    ['2a01:4f8:10:20::7', ['2a0104f8001000200000000000000000', '2a0104f8001000200000000000000007']],
    ['2a01:4f8:10:20::', ['2a0104f8001000200000000000000000']], // the /64's own key: no second one
    ['2002:102:304::1', ['00000000000000000000ffff01020304', '20020102030400000000000000000001']],
    ['seed.example.org', ['00000000000000000000000000000000']], // a host name: no address to key
  ])('%s -> %j', (ip, keys) => {
    expect(ipBanKeys(ip).map(hex)).toEqual(keys);
  });
});

describe('isPublicIp judges what a literal names, in any form', () => {
  it.each([
    ['::ffff:192.168.0.1', false], // IPv4-mapped private
    ['::ffff:10.0.0.1', false],
    ['::FFFF:127.0.0.1', false],
    ['::ffff:8.8.8.8', true], // IPv4-mapped public
    ['::ffff:808:808', true], // the same, hex form
    ['::2', false], // IETF-reserved ::/8
    ['::10.0.0.1', false], // deprecated IPv4-compatible ::/96
    ['::8.8.8.8', false],
    ['0:1::1', false], // still ::/16
    ['1::1', true], // outside ::/16 and every listed range
    ['not an ip', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });
});

describe('isPublicIp judges NAT64, 6to4 and Teredo addresses by the IPv4 addresses they embed', () => {
  it.each([
    ['64:ff9b::a00:1', false], // NAT64 of 10.0.0.1
    ['64:ff9b::7f00:1', false], // 127.0.0.1
    ['64:ff9b::c0a8:101', false], // 192.168.1.1
    ['64:ff9b::10.0.0.1', false], // the same, dotted
    ['64:ff9b::808:808', true], // 8.8.8.8 stays public
    ['64:ff9b:1::808:808', false], // local-use NAT64 (RFC 8215): never globally reachable
    ['64:ff9b:1:ffff::1', false],
    ['64:ff9b:0:1::808:808', false], // 64:ff9b::/32 outside the two assigned prefixes
    ['2002:a00:1::1', false], // 6to4 of 10.0.0.1
    ['2002:7f00:1::1', false], // 127.0.0.1
    ['2002:c0a8:101:5::9', false], // 192.168.1.1
    ['2002:808:808::1', true], // 8.8.8.8
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', false], // Teredo: client 10.0.0.1 (inverted)
    ['2001:0:a00:1:8000:63bf:f7f7:f7f7', false], // Teredo server 10.0.0.1, client 8.8.8.8
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', true], // server 65.54.227.120, client 8.8.8.8
    ['2001:1::1', true], // 2001:1::/32 is not Teredo
    // Only both words make the NAT64 prefix: these are ordinary global addresses.
    ['64:1::a00:1', true],
    ['65:ff9b::a00:1', true],
  ])('%s → %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });

  it('agrees with the IPv4 registry at every edge of every IPv4 range, in each embedding', () => {
    const r = rng(8);
    const quads: string[] = [];
    for (const [net, len] of V4_RANGES) {
      const first = v4ToInt(net);
      const last = first + 2 ** (32 - len) - 1;
      for (const n of [first - 1, first, last, last + 1]) if (n >= 0 && n < 2 ** 32) quads.push(intToV4(n));
    }
    for (let n = 0; n < 300; n++) quads.push(intToV4(Math.floor(r() * 2 ** 32)));
    const w = (quad: string, invert = false) => {
      const n = (v4ToInt(quad) ^ (invert ? 0xffffffff : 0)) >>> 0;
      return `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
    };
    const publicQuad = '65.54.227.120';
    for (const quad of quads) {
      const want = oraclePublic(quad);
      expect(isPublicIp(`64:ff9b::${w(quad)}`), `NAT64 ${quad}`).toBe(want);
      expect(isPublicIp(`64:ff9b::${quad}`), `NAT64 ${quad}`).toBe(want);
      expect(isPublicIp(`2002:${w(quad)}:${Math.floor(r() * 65536).toString(16)}::1`), `6to4 ${quad}`).toBe(
        want,
      );
      expect(isPublicIp(`2001:0:${w(publicQuad)}:0:1:${w(quad, true)}`), `Teredo client ${quad}`).toBe(want);
      expect(isPublicIp(`2001:0:${w(quad)}:0:1:${w(publicQuad, true)}`), `Teredo server ${quad}`).toBe(want);
      expect(isPublicIp(`64:ff9b:1::${w(quad)}`), `local NAT64 ${quad}`).toBe(false);
    }
  });
});
