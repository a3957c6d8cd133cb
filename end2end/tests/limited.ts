import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import type { Headway } from './headway';

// What the limits specs share: demo limited to one job at once per log_every, the jobs that
// fill and queue behind a key, and the clean-up. The log_every values (7, 13) are used by no
// other test.

export const LIMIT = { kind: 'demo', per: 'param', param: 'log_every', max: 1 };
/** A job of key 7 that runs until cancelled. */
export const LONG = { steps: 100000, interval_ms: 20, log_every: 7 };

export async function start(server: Headway, page: Page, params: Record<string, unknown>): Promise<string> {
  const res = await page.request.post(`${server.url}/api/v1/jobs`, { data: { kind: 'demo', params } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

export async function statusOf(server: Headway, page: Page, id: string): Promise<string> {
  return (await (await page.request.get(`${server.url}/api/v1/jobs/${id}`)).json()).status;
}

/**
 * With LIMIT set: a LONG job runs and holds key 7; a short job of key 7 is started behind it.
 * Their ids are pushed to `ids` (for the clean-up) as they start; returns the one that waits.
 */
export async function holdKey7(server: Headway, page: Page, ids: string[]): Promise<string> {
  ids.push(await start(server, page, LONG));
  await expect.poll(() => statusOf(server, page, ids[0]), { timeout: 30_000 }).toBe('running');
  const waiting = await start(server, page, { ...LONG, steps: 3, interval_ms: 5 });
  ids.push(waiting);
  return waiting;
}

/** A job of key 13 starts past the one of key 7 that waits, and ends; it is pushed to `ids`. */
export async function passKey7(server: Headway, page: Page, ids: string[], waiting: string) {
  const other = await start(server, page, { steps: 3, interval_ms: 5, log_every: 13 });
  ids.push(other);
  await expect.poll(() => statusOf(server, page, other), { timeout: 30_000 }).toBe('succeeded');
  expect(await statusOf(server, page, waiting)).toBe('queued');
}

/** Cancels the jobs and removes the limit, whatever the test got to. */
export async function cleanUp(server: Headway, page: Page, ids: string[]) {
  for (const id of ids) await page.request.post(`${server.url}/api/v1/jobs/${id}/cancel`);
  await page.request.post(`${server.url}/api/v1/limits/remove`, { data: LIMIT });
}
