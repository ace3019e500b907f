// Session details: the country of a client IP is found once and then remembered (a flush sees
// the same clients again and again), in a bounded memory.
import { describe, expect, it } from 'vitest';
import { clientDetails, countryOf } from '../../src/domain/session-details.js';

describe('session details', () => {
  it('finds the country of public IPv4 and IPv6 addresses and none for private ones', () => {
    expect(countryOf('81.2.69.142')).toEqual({ country: 'United Kingdom', countryIsoCode: 'GB' });
    expect(countryOf('2a02:8108::1')).toEqual({ country: 'Germany', countryIsoCode: 'DE' });
    expect(countryOf('127.0.0.1')).toEqual({ country: '', countryIsoCode: '' });
    expect(countryOf('::ffff:10.1.2.3')).toEqual({ country: '', countryIsoCode: '' });
    expect(clientDetails('81.2.69.142', 'Thunderbird/115.3.1')).toMatchObject({ userAgentFamily: 'Thunderbird', countryIsoCode: 'GB' });
  });

  it('remembers the answer per IP, and forgets them all rather than grow past 10,000 addresses', () => {
    const first = countryOf('81.2.69.142');
    expect(countryOf('81.2.69.142')).toBe(first);
    for (let i = 0; i < 10_000; i += 1) countryOf(`10.${(i >> 8) & 255}.${i & 255}.1`);
    const again = countryOf('81.2.69.142');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
