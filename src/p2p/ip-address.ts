import { isIP } from 'node:net';

/**
 * IP literals as the transport compares them: one canonical text per address (IPv4 dotted quad,
 * IPv6 compressed lower case, IPv4-mapped IPv6 as IPv4), the "IP subject" every per-IP rule keys
 * on (an IPv4 address, an IPv6 /64), the network (a /24, an IPv6 /48) the per-netgroup connection
 * limits count, the /24 (IPv4) or /64 (IPv6) "netgroup" that spreads address-book buckets, and
 * which addresses are public.
 * Host names are never accepted from peers: resolving them would let a peer make us query DNS and
 * dial whatever it returns.
 */

/** Canonical text of an IP literal, or undefined when `text` is not one (host names included). */
export function normalizeIp(text: string): string | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const kind = isIP(s);
  if (kind === 4)
    return s
      .split('.')
      .map((p) => String(Number(p)))
      .join('.');
  if (kind !== 6) return undefined;
  const words = ipv6Words(s);
  if (words === undefined) return undefined;
  // ::ffff:a.b.c.d (IPv4-mapped) is the IPv4 peer a dual-stack socket reports.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return ipv4Of(words[6]!, words[7]!);
  }
  return compressIpv6(words);
}

/** The 8 16-bit words of an IPv6 literal, or undefined when `s` is not one. */
function ipv6Words(s: string): number[] | undefined {
  if (isIP(s) !== 6) return undefined;
  // A zone id ("fe80::1%eth0") names a local interface, not part of the address; node:net accepts
  // ':' and '.' in it, which the parsing below would otherwise read as address words.
  let text = s.split('%')[0]!.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const words = [...h, ...Array(fill).fill('0'), ...t].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : undefined;
}

function compressIpv6(words: number[]): string {
  // RFC 5952: the longest run (≥ 2) of zero words becomes ::
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * The network a connection counts against for the per-netgroup limits on pending handshakes and
 * inbound peers, and for choosing whom to evict (connection slots): an IPv4 address's /24, an
 * IPv6 address's /48 ("10.1.2.0/24", "2a01:4f8:77::/48"); an address that stands for one IPv4
 * host (ipSubject) is in that host's /24. Both are the smallest block routed across the internet
 * (longer prefixes are filtered), and the usual assignment to one customer site (RFC 6177 for
 * IPv6), so each such group is one allocation an attacker has to obtain, where a /64 (an IPv6
 * subject) comes 256 to a /56 and 65,536 to a /48 for nothing. Coarser groups (/16, /32: a whole
 * provider) would make an attacker's connections share one group more often, but would also put
 * every honest peer of a big hosting provider in the group the attacker fills, which the inbound
 * per-netgroup limit then shuts out.
 */
export function connectionGroupOf(text: string): string {
  const subject = ipSubject(text);
  if (isIP(subject) === 4) return `${subject.slice(0, subject.lastIndexOf('.'))}.0/24`;
  const ip = normalizeIp(text);
  if (ip === undefined) return text;
  return `${compressIpv6([...ipv6Words(ip)!.slice(0, 3), 0, 0, 0, 0, 0])}/48`;
}

/**
 * False for addresses that are not reachable across the internet: unspecified, loopback, private
 * (RFC 1918, RFC 4193), link-local, CGNAT, multicast, documentation and reserved ranges. Any
 * literal form is judged by what it names: an IPv4-mapped IPv6 address as its IPv4 address, a
 * NAT64 (64:ff9b::/96), 6to4 (2002::/16) or Teredo (2001::/32) address by the IPv4 addresses
 * it embeds.
 */
export function isPublicIp(text: string): boolean {
  const ip = normalizeIp(text);
  if (ip === undefined) return false;
  if (isIP(ip) === 4) {
    const [a, b, c] = ip.split('.').map(Number) as [number, number, number];
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b <= 31) return false;
    if (a === 192 && b === 168) return false;
    if (a === 100 && b >= 64 && b <= 127) return false;
    if (a === 192 && b === 0 && c === 0) return false; // 192.0.0.0/24 IETF protocol assignments
    if (a === 198 && (b === 18 || b === 19)) return false; // 198.18.0.0/15 benchmarking
    // Documentation (RFC 5737): exactly three /24s; the rest of those /16s is ordinary unicast.
    if (
      (a === 192 && b === 0 && c === 2) ||
      (a === 198 && b === 51 && c === 100) ||
      (a === 203 && b === 0 && c === 113)
    )
      return false;
    return true;
  }
  const words = ipv6Words(ip);
  if (!words) return false;
  const w0 = words[0]!;
  // ::/16 after normalization (mapped IPv4 became IPv4 above): ::, ::1, the deprecated
  // IPv4-compatible ::/96 and the rest of the IETF-reserved ::/8.
  if (w0 === 0) return false;
  if ((w0 & 0xfe00) === 0xfc00) return false; // fc00::/7 unique local
  if ((w0 & 0xffc0) === 0xfe80) return false; // fe80::/10 link local
  if ((w0 & 0xff00) === 0xff00) return false; // multicast
  if (w0 === 0x2001 && words[1] === 0x0db8) return false; // documentation
  // Addresses that name an IPv4 address are judged by it, or a peer list could steer us to
  // 10.0.0.1 or 127.0.0.1 through the translator or relay that would carry our dial:
  if (w0 === 0x0064 && words[1] === 0xff9b) {
    // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052): the IPv4 address in the last 32 bits.
    if (words.slice(2, 6).every((w) => w === 0)) return isPublicIp(ipv4Of(words[6]!, words[7]!));
    // 64:ff9b:1::/48 is for local NAT64 only (RFC 8215: not globally reachable), where the
    // operator picks where the IPv4 address sits; the rest of 64:ff9b::/32 is unassigned.
    return false;
  }
  // 6to4 (RFC 3056), 2002:AABB:CCDD::/48: the IPv4 address in bits 16..48.
  if (w0 === 0x2002) return isPublicIp(ipv4Of(words[1]!, words[2]!));
  // Teredo (RFC 4380), 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC: the server's IPv4 address and the
  // client's (its NAT's, stored inverted); both must be public for the address to be reachable.
  if (w0 === 0x2001 && words[1] === 0) {
    return (
      isPublicIp(ipv4Of(words[2]!, words[3]!)) && isPublicIp(ipv4Of(words[6]! ^ 0xffff, words[7]! ^ 0xffff))
    );
  }
  return true;
}

/** Dotted-quad text of the IPv4 address held in two IPv6 words. */
function ipv4Of(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The IP subject of an address: what every per-IP rule (misbehaviour scores, IP bans, the handshake
 * signature budget, pending and inbound connections per IP) counts as one peer. An IPv4 address
 * is itself ("198.51.100.7"); an IPv6 address is its /64 ("2a01:4f8:10:20::/64"): one host is
 * routinely given a whole /64 (SLAAC, every VPS plan) and may take a fresh address of it for each
 * connection, so per /128 no per-IP rule would hold for it at all. An IPv6 address that names one
 * IPv4 host is that host: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96: a SIIT or NAT46
 * translator in front of us shows every IPv4 peer so, and they must not share one subject), 6to4
 * (2002::/16: one IPv4 address owns a /48, 65,536 /64s) and Teredo (2001::/32: the client's
 * address; its port and server fields are the client's to pick). Text that is no IP literal is its
 * own subject.
 */
export function ipSubject(text: string): string {
  const ip = normalizeIp(text);
  if (ip === undefined) return text;
  if (isIP(ip) === 4) return ip;
  const words = ipv6Words(ip)!;
  return namedIpv4(words) ?? `${compressIpv6([...words.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** The one IPv4 host a NAT64, 6to4 or Teredo address stands for (as a peer's source). */
function namedIpv4(words: readonly number[]): string | undefined {
  const w0 = words[0]!;
  if (w0 === 0x0064 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0))
    return ipv4Of(words[6]!, words[7]!);
  if (w0 === 0x2002) return ipv4Of(words[1]!, words[2]!);
  if (w0 === 0x2001 && words[1] === 0) return ipv4Of(words[6]! ^ 0xffff, words[7]! ^ 0xffff);
  return undefined;
}

/**
 * 16 bytes per IP subject (ipSubject): the ban store's key for an IP. An IPv4 subject as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d), an IPv6 /64 as its prefix with the low 64 bits zero.
 */
export function ipKeyBytes(text: string): Uint8Array {
  const ip = normalizeIp(text);
  const v4 = ip === undefined ? undefined : isIP(ip) === 4 ? ip : namedIpv4(ipv6Words(ip)!);
  if (v4 !== undefined) return mappedKey(v4);
  const out = new Uint8Array(16);
  (ip === undefined ? [] : ipv6Words(ip)!.slice(0, 4)).forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * The keys a ban of this address may be stored under: its subject's (ipKeyBytes) and, when that
 * differs, the whole 128-bit address, under which bans were written before IPv6 was keyed per /64.
 * Such a ban still holds, for that one address, until it expires (default 1 hour); no new ban is
 * written under it.
 */
export function ipBanKeys(text: string): Uint8Array[] {
  const key = ipKeyBytes(text);
  const ip = normalizeIp(text);
  if (ip === undefined || isIP(ip) === 4) return [key];
  const exact = new Uint8Array(16);
  ipv6Words(ip)!.forEach((w, i) => {
    exact[2 * i] = w >> 8;
    exact[2 * i + 1] = w & 0xff;
  });
  return Buffer.from(exact).equals(key) ? [key] : [key, exact];
}

function mappedKey(quad: string): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  quad.split('.').forEach((p, i) => {
    out[12 + i] = Number(p);
  });
  return out;
}
