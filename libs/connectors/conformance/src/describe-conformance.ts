import { CONFORMANCE_CHECKS } from './checks';
import type { HarnessFactory } from './harness';

/**
 * Registers the conformance kit as Jest tests: one test per check, each on a fresh harness.
 *
 * ```ts
 * import { describeConformance } from '@mandate/connector-conformance';
 * describeConformance('my-crm', myCrmHarness);
 * ```
 */
export function describeConformance(
  name: string,
  factory: HarnessFactory,
  timeoutMs = 30_000,
): void {
  describe(`${name} connector conformance`, () => {
    for (const kind of ['structural', 'behavioural'] as const) {
      describe(kind, () => {
        for (const check of CONFORMANCE_CHECKS.filter((c) => c.kind === kind)) {
          it(
            check.title,
            async () => {
              const harness = await factory();
              try {
                await check.run(harness);
              } finally {
                await harness.close();
              }
            },
            timeoutMs,
          );
        }
      });
    }
  });
}
