// One page state captured the way issue 27 asks: a screenshot at 1440x900 and at 390x844 (each
// checked to be non-blank) and an axe-core scan at each size; serious or critical findings are
// collected for the suite's last test to report.
import type { Page } from 'playwright-core';
import { seriousViolations } from './a11y.js';
import { screenshot } from './browser.js';

export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function captureBothViewports(page: Page, name: string, a11y: string[]): Promise<void> {
  for (const [label, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await screenshot(page, `${name}-${label}`);
    for (const v of await seriousViolations(page)) a11y.push(`${name} (${label}): ${v}`);
  }
  await page.setViewportSize(DESKTOP);
}

/** Whether the element's box lies inside the viewport as it is scrolled now. */
export async function inViewport(page: Page, selector: string): Promise<boolean> {
  return (await page.evaluate(`(() => {
    const box = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect();
    return !!box && box.height > 0 && box.top >= 0 && box.bottom <= innerHeight;
  })()`)) as boolean;
}
