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

  it('finds the country of a public IPv4 address written as IPv4-mapped IPv6', () => {
    expect(countryOf('::ffff:81.2.69.142')).toEqual({ country: 'United Kingdom', countryIsoCode: 'GB' });
  });

  it('remembers more than the last address', () => {
    const first = countryOf('81.2.69.143');
    countryOf('2a02:8108::2');
    expect(countryOf('81.2.69.143')).toBe(first);
  });

  it('parses mail clients and devices, and leaves what the user agent does not say empty', () => {
    const none = { country: '', countryIsoCode: '' };
    expect(clientDetails('192.0.2.1', '')).toEqual({
      userAgentFamily: '',
      userAgentVersion: '',
      userAgentMajorVersion: '',
      osFamily: '',
      osVersion: '',
      deviceFamily: 'Other',
      deviceBrand: '',
      deviceType: 'Unknown',
      ...none,
    });
    const bare = { osFamily: '', osVersion: '', deviceFamily: '', deviceBrand: '', deviceType: '', ...none };
    expect(clientDetails('192.0.2.1', 'Thunderbird/115.3.1')).toEqual({
      userAgentFamily: 'Thunderbird',
      userAgentVersion: '115.3.1',
      userAgentMajorVersion: '115',
      ...bare,
    });
    expect(clientDetails('192.0.2.1', 'Microsoft Outlook 16.0.17328')).toEqual({
      userAgentFamily: 'Microsoft Outlook',
      userAgentVersion: '16.0.17328',
      userAgentMajorVersion: '16',
      ...bare,
    });
    expect(clientDetails('192.0.2.1', 'Microsoft Outlook/16.0.17328')).toMatchObject({ userAgentFamily: 'Microsoft Outlook', userAgentVersion: '16.0.17328' });
    expect(
      clientDetails(
        '192.0.2.1',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
      ),
    ).toEqual({
      userAgentFamily: 'Mobile Safari',
      userAgentVersion: '17.1',
      userAgentMajorVersion: '17',
      osFamily: 'iOS',
      osVersion: '17.1',
      deviceFamily: 'iPhone',
      deviceBrand: 'Apple',
      deviceType: 'mobile',
      ...none,
    });
  });
});
