import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { parseAllowEntry, specialAddressKind, WebhookTargetPolicy, type LookupAll } from './webhook-target.js';

/** A fake DNS: name → addresses; unknown names fail like ENOTFOUND. */
function dns(table: Record<string, string[]>): LookupAll {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('special addresses', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast or reserved'],
    ['192.0.2.1', 'special-purpose'],
    ['198.18.0.1', 'special-purpose'],
    ['2001:db8::1', 'special-purpose'],
    ['64:ff9b::a00:1', 'special-purpose'],
    ['2002:a00:1::1', 'special-purpose'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['8.8.8.8', undefined],
    ['1.1.1.1', undefined],
    ['172.32.0.1', undefined],
    ['2606:4700:4700::1111', undefined],
    ['::ffff:8.8.8.8', undefined],
  ];
  for (const [address, kind] of cases) {
    it(`${address} is ${kind ?? 'public'}`, () => assert.equal(specialAddressKind(address), kind));
  }
});

describe('WebhookTargetPolicy', () => {
  const lookup = dns({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'internal.example.com': ['10.0.0.7'],
    'mixed.example.com': ['93.184.216.34', '127.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
  });

  it('lets public targets through with the addresses to connect to', async () => {
    const check = await new WebhookTargetPolicy({ lookup }).resolve('https://hooks.example.com/in?x=1');
    assert.equal(check.ok, true);
    assert.deepEqual(check.ok && check.addresses.map((a) => a.address), ['93.184.216.34', '2606:2800:220:1::1']);
  });

  it('refuses loopback, private and link-local targets, literal or resolved', async () => {
    const policy = new WebhookTargetPolicy({ lookup });
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost/',
      'http://LOCALHOST./',
      'http://internal.example.com/',
    ]) {
      const check = await policy.resolve(url);
      assert.equal(check.ok, false, url);
      assert.match(!check.ok ? check.reason : '', /(loopback|private|link-local|unspecified) address/, url);
    }
  });

  it('refuses a name when any of its addresses is special (no rebinding through a second record)', async () => {
    const check = await new WebhookTargetPolicy({ lookup }).resolve('http://mixed.example.com/');
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.reason.includes('127.0.0.1'), false, 'a resolved address is not revealed');
  });

  it('refuses other schemes, credentials in the URL and unresolvable hosts', async () => {
    const policy = new WebhookTargetPolicy({ lookup });
    const reasons = await Promise.all(['ftp://hooks.example.com/', 'file:///etc/passwd', 'https://user:pw@hooks.example.com/', 'not a url', 'https://nowhere.example.com/'].map((u) => policy.resolve(u)));
    assert.deepEqual(
      reasons.map((r) => (r.ok ? 'ok' : r.reason)),
      ['must use http or https', 'must use http or https', 'must not contain a user name or password', 'is not a valid URL', 'host nowhere.example.com could not be resolved'],
    );
    assert.deepEqual(reasons.map((r) => !r.ok && r.permanent), [true, true, true, true, false]);
  });

  it('allows what the allowlist names: an address, a network, or a host name', async () => {
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['127.0.0.1'] }).resolve('http://127.0.0.1:9/')).ok, true);
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['127.0.0.1'] }).resolve('http://127.0.0.2:9/')).ok, false);
    // localhost also resolves to ::1, which is not allowed by 127.0.0.1 alone.
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['127.0.0.1'] }).resolve('http://localhost:9/')).ok, false);
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['127.0.0.1', '::1'] }).resolve('http://localhost:9/')).ok, true);
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['localhost'] }).resolve('http://LocalHost./')).ok, true);
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['10.0.0.0/8'] }).resolve('http://internal.example.com/')).ok, true);
    assert.equal((await new WebhookTargetPolicy({ lookup, allowHosts: ['[::1]'] }).resolve('http://[::1]:8/')).ok, true);
  });

  it('treats *.localhost as loopback and *.invalid as unresolvable without asking DNS', async () => {
    let asked = 0;
    const counting: LookupAll = async () => {
      asked++;
      return [{ address: '93.184.216.34', family: 4 }];
    };
    const policy = new WebhookTargetPolicy({ lookup: counting });
    const local = await policy.resolve('http://app.localhost/');
    assert.match(!local.ok ? local.reason : '', /loopback/);
    const invalid = await policy.resolve('https://hooks.invalid/x');
    assert.equal(!invalid.ok && invalid.reason, 'host hooks.invalid could not be resolved');
    assert.equal(asked, 0);
    assert.equal((await new WebhookTargetPolicy({ lookup: counting, allowHosts: ['127.0.0.1', '::1'] }).resolve('http://localhost:8/')).ok, true);
  });

  it('parses allowlist entries and refuses junk', () => {
    assert.deepEqual(parseAllowEntry(' Hooks.Internal. '), { kind: 'name', name: 'hooks.internal' });
    assert.deepEqual(parseAllowEntry('127.0.0.1'), { kind: 'address', address: '127.0.0.1', type: 'ipv4' });
    assert.deepEqual(parseAllowEntry('fd00::/8'), { kind: 'network', network: 'fd00::', prefix: 8, type: 'ipv6' });
    for (const bad of ['', '10.0.0.0/33', 'a b', 'http://x/', 'user@host', '1.2.3.4/x', 'host:80']) assert.throws(() => parseAllowEntry(bad), TypeError, bad);
  });
});
