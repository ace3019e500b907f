// Session ids come from a pooled random buffer: every id must still be a distinct UUIDv7.
import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../src/domain/time-ordered-ids.js';

describe('time-ordered ids', () => {
  it('are distinct version 7 UUIDs whose time part never goes back, across refills of the random pool', () => {
    const ids = Array.from({ length: 2_000 }, () => timeOrderedId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const millis = ids.map((id) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16));
    for (let i = 1; i < millis.length; i += 1) expect(millis[i]).toBeGreaterThanOrEqual(millis[i - 1] as number);
    expect(Math.abs((millis.at(-1) as number) - Date.now())).toBeLessThan(60_000);
  });
});
