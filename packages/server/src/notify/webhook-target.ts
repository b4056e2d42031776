/**
 * Which webhook targets the server may call (SSRF hardening): http or
 * https only, no credentials in the URL, and no loopback, private, link-local,
 * unspecified or other special-purpose address, checked on every address the
 * host resolves to — unless the host, address or network is allowlisted
 * (`--webhook-allow-hosts`). Checked when a job is created and again before
 * every attempt, and the sender connects only to the addresses checked
 * (see {@link WebhookTargetPolicy.resolve}), so DNS changed in between cannot
 * slip a private address through.
 */
import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** `dns.promises.lookup(host, {all: true})`, injectable for tests. */
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

/** Special-purpose ranges (IANA IPv4/IPv6 Special-Purpose Address Registries), by the name shown in refusals. */
const SPECIAL_RANGES: readonly (readonly [name: string, cidrs: readonly string[]])[] = [
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['shared (carrier-grade NAT)', ['100.64.0.0/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  ['broadcast or reserved', ['240.0.0.0/4']],
  [
    'special-purpose',
    [
      '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
      '::/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16', 'fec0::/10',
    ],
  ],
];

const SPECIAL = SPECIAL_RANGES.map(([name, cidrs]) => [name, blockListOf(cidrs)] as const);

/**
 * Name of the special-purpose range `address` is in (`loopback`, `private`, …), or `undefined` for
 * a public address. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) count as their IPv4 address.
 */
export function specialAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of SPECIAL) if (list.check(address, type)) return name;
  return undefined;
}

/** Why a target was refused, or the URL and the addresses it may be reached at. */
export type TargetCheck = { ok: true; url: URL; addresses: LookupAddress[] } | { ok: false; reason: string; permanent: boolean };

/** Options of {@link WebhookTargetPolicy}. */
export interface WebhookTargetPolicyOptions {
  /**
   * Hostnames, IP addresses and CIDR networks that may be called although special
   * (e.g. `127.0.0.1`, `hooks.internal`, `10.1.0.0/16`).
   * @default []
   */
  allowHosts?: readonly string[];
  /** @default dns.promises.lookup with `{all: true}` */
  lookup?: LookupAll;
  /**
   * Longest wait for DNS.
   * @default 5000
   */
  resolveTimeoutMs?: number;
}

/** Decides whether a URL may be called. */
export class WebhookTargetPolicy {
  private readonly allowedNames = new Set<string>();
  private readonly allowedAddresses = new BlockList();
  private readonly lookup: LookupAll;
  private readonly resolveTimeoutMs: number;

  constructor(options: WebhookTargetPolicyOptions = {}) {
    for (const entry of options.allowHosts ?? []) {
      const parsed = parseAllowEntry(entry);
      if (parsed.kind === 'name') this.allowedNames.add(parsed.name);
      else if (parsed.kind === 'address') this.allowedAddresses.addAddress(parsed.address, parsed.type);
      else this.allowedAddresses.addSubnet(parsed.network, parsed.prefix, parsed.type);
    }
    this.lookup = options.lookup ?? ((hostname) => dns.lookup(hostname, { all: true, verbatim: true }));
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
  }

  /** Checks the URL alone (scheme, credentials, host); no DNS. */
  parse(raw: string): { ok: true; url: URL; host: string } | { ok: false; reason: string; permanent: true } {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'is not a valid URL', permanent: true };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must use http or https', permanent: true };
    if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not contain a user name or password', permanent: true };
    const host = normalizeHost(url.hostname);
    if (host === '') return { ok: false, reason: 'must name a host', permanent: true };
    return { ok: true, url, host };
  }

  /**
   * Resolves the URL's host and checks every address; the sender connects only to the addresses
   * returned. An allowlisted hostname skips the address checks; otherwise each address must be
   * public or allowlisted.
   */
  async resolve(raw: string): Promise<TargetCheck> {
    const parsed = this.parse(raw);
    if (!parsed.ok) return parsed;
    const { url, host } = parsed;
    const family = isIP(host);
    let addresses: LookupAddress[];
    if (family !== 0) {
      addresses = [{ address: host, family }];
    } else if (host === 'localhost' || host.endsWith('.localhost')) {
      // RFC 6761 §6.3: always loopback, whatever a resolver says.
      addresses = [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
    } else if (host === 'invalid' || host.endsWith('.invalid')) {
      // RFC 6761 §6.4: never resolves; no need to ask.
      return { ok: false, reason: `host ${host} could not be resolved`, permanent: false };
    } else {
      try {
        addresses = await withTimeout(this.lookup(host), this.resolveTimeoutMs);
      } catch {
        return { ok: false, reason: `host ${host} could not be resolved`, permanent: false };
      }
      if (addresses.length === 0) return { ok: false, reason: `host ${host} could not be resolved`, permanent: false };
    }
    if (this.allowedNames.has(host)) return { ok: true, url, addresses };
    for (const { address, family: addressFamily } of addresses) {
      const kind = specialAddressKind(address);
      if (kind === undefined || this.allowedAddresses.check(address, addressFamily === 6 ? 'ipv6' : 'ipv4')) continue;
      // For a name, the resolved address stays unsaid: the refusal should not be a DNS oracle for internal names.
      const what = family !== 0 ? `address ${host} is` : `host ${host} resolves to`;
      return { ok: false, reason: `${what} a ${kind} address, which webhooks may not call (the server's --webhook-allow-hosts can allow it)`, permanent: false };
    }
    return { ok: true, url, addresses };
  }
}

/** One `--webhook-allow-hosts` entry, parsed; throws `TypeError` for anything else. */
export function parseAllowEntry(
  entry: string,
):
  | { kind: 'name'; name: string }
  | { kind: 'address'; address: string; type: 'ipv4' | 'ipv6' }
  | { kind: 'network'; network: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  const text = entry.trim();
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const network = stripBrackets(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    const family = isIP(network);
    const prefix = Number(prefixText);
    if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw new TypeError(`${JSON.stringify(entry)} is not a valid CIDR network`);
    return { kind: 'network', network, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
  }
  const host = stripBrackets(text);
  const family = isIP(host);
  if (family !== 0) return { kind: 'address', address: host, type: family === 4 ? 'ipv4' : 'ipv6' };
  let name: string;
  try {
    name = normalizeHost(new URL(`http://${host}/`).hostname);
  } catch {
    throw new TypeError(`${JSON.stringify(entry)} is not a hostname, IP address or CIDR network`);
  }
  if (name === '' || /[/?#@:]/.test(host)) throw new TypeError(`${JSON.stringify(entry)} is not a hostname, IP address or CIDR network`);
  // The URL parser canonicalizes numeric hosts ("0x7f.1" → "127.0.0.1"): keep what it means.
  const canonicalFamily = isIP(name);
  if (canonicalFamily !== 0) return { kind: 'address', address: name, type: canonicalFamily === 4 ? 'ipv4' : 'ipv6' };
  return { kind: 'name', name };
}

/** Lower case, no IPv6 brackets, no trailing root dot. */
function normalizeHost(hostname: string): string {
  return stripBrackets(hostname).toLowerCase().replace(/\.$/, '');
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), isIP(network) === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
