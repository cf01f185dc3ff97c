/**
 * Waits until `condition` holds, checking it every few milliseconds: tests wait on state,
 * never on a fixed sleep. Fails with `what` if it does not hold within `timeoutMs`.
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
