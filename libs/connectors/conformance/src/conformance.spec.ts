import type { FieldSpec } from '@mandate/connector-sdk';
import { CONFORMANCE_CHECKS, runConformance, type CheckResult } from './checks';
import { describeConformance } from './describe-conformance';
import type { HarnessFactory } from './harness';
import { REFERENCE_CAPABILITIES, referenceHarness, type ReferenceHarnessOptions } from './testing';

/**
 * The kit's self-tests: the reference connector passes every check, and each of its switchable
 * defects is caught by exactly the check about it (the others still pass), so a check that
 * stopped checking, or one that fails for the wrong reason, shows up here.
 */

const ALL = CONFORMANCE_CHECKS.map((c) => c.id);

/** The behavioural checks that run the adapter through the SDK's ManagedConnector. */
const THROUGH_MANAGED_CONNECTOR = [
  'executes-actions',
  'idempotent-under-redelivery',
  'refuses-invalid-tokens',
  'maps-errors',
  'rate-limits',
  'reads-requested-fields',
  'finds-records',
  'compensates',
];

const failed = (results: readonly CheckResult[]) => results.filter((r) => !r.passed);
const byId = (results: readonly CheckResult[], id: string) => {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no result for check ${id}`);
  return r;
};
const run = (options: ReferenceHarnessOptions = {}) =>
  runConformance(() => referenceHarness(options));

/** Asserts exactly `failing` failed, each error matching its pattern, and every other check passed. */
function expectOnlyFailures(
  results: readonly CheckResult[],
  failing: Readonly<Record<string, RegExp>>,
): void {
  expect(results.map((r) => r.id)).toEqual(ALL);
  expect(
    failed(results)
      .map((r) => r.id)
      .sort(),
  ).toEqual(Object.keys(failing).sort());
  for (const [id, pattern] of Object.entries(failing))
    expect(byId(results, id).error).toMatch(pattern);
  for (const r of results.filter((x) => !(x.id in failing)))
    expect(r).toMatchObject({ passed: true });
}

describe('conformance kit self-tests', () => {
  it('the reference connector passes every check, each on a fresh harness that is closed after', async () => {
    let opened = 0;
    let closed = 0;
    const factory: HarnessFactory = async () => {
      opened++;
      const h = await referenceHarness();
      return {
        ...h,
        close: async () => {
          closed++;
          await h.close();
        },
      };
    };
    const results = await runConformance(factory);
    expect(failed(results)).toEqual([]);
    expect(results.map((r) => [r.id, r.kind])).toEqual(
      CONFORMANCE_CHECKS.map((c) => [c.id, c.kind]),
    );
    expect(results.filter((r) => r.kind === 'structural')).toHaveLength(4);
    expect(results.filter((r) => r.kind === 'behavioural')).toHaveLength(9);
    expect([opened, closed]).toEqual([CONFORMANCE_CHECKS.length, CONFORMANCE_CHECKS.length]);
  });

  describe('each defect fails exactly its check', () => {
    const cases: Array<[string, ReferenceHarnessOptions, Record<string, RegExp>]> = [
      [
        'ignoring applied keys while declaring CRM-side idempotency',
        { idempotent: false },
        { 'idempotent-under-redelivery': /declares CRM-side idempotency but re-applied the key/ },
      ],
      [
        'dropping Retry-After',
        { dropRetryAfter: true },
        { 'rate-limits': /Retry-After not surfaced as retryAfterMs/ },
      ],
      [
        'reading whole records',
        { readsAllFields: true },
        { 'reads-requested-fields': /returned fields that were not requested/ },
      ],
      [
        'reordering a change-feed page',
        { reorderChanges: true },
        { 'change-feed': /first page out of order/ },
      ],
      [
        'source ids that change between reads',
        { unstableSourceIds: true },
        { 'change-feed': /a re-read page has other source ids/ },
      ],
      [
        'undo information that restores nothing',
        { brokenUndo: true },
        { compensates: /close_case: field status not restored/ },
      ],
      [
        'trusting a search that ignores case',
        { trustsSearchCase: true },
        { 'finds-records': /matched a value that differs in case/ },
      ],
      [
        'validation errors mapped as retryable',
        { validationAsRetryable: true },
        { 'maps-errors': /validation error: expected a permanent error, got retryable/ },
      ],
    ];
    it.each(cases)('%s', async (_what, defect, failing) => {
      expectOnlyFailures(await run(defect), failing);
    });
  });

  describe('malformed capability declarations fail the structural checks', () => {
    // The SDK's ManagedConnector refuses a malformed declaration at construction (a connector
    // with one would be refused at start-up), so every behavioural check going through it fails
    // too; only the change feed, which the kit calls on the bare adapter, still runs.
    const refusedBySdk = Object.fromEntries(
      THROUGH_MANAGED_CONNECTOR.map((id) => [id, /declares invalid capabilities/]),
    );

    it('a field without a classification', async () => {
      const [ticket] = REFERENCE_CAPABILITIES.objects;
      const unclassified = { name: 'internal_notes' } as unknown as FieldSpec;
      const results = await run({
        capabilities: {
          ...REFERENCE_CAPABILITIES,
          objects: [{ ...ticket, fields: [...ticket.fields, unclassified] }],
        },
      });
      expectOnlyFailures(results, {
        'capabilities-well-formed': /field "ticket\.internal_notes" has no valid classification/,
        ...refusedBySdk,
      });
    });

    it('a classification that is not one of the taxonomy', async () => {
      const [ticket] = REFERENCE_CAPABILITIES.objects;
      const results = await run({
        capabilities: {
          ...REFERENCE_CAPABILITIES,
          objects: [
            {
              ...ticket,
              fields: ticket.fields.map((f) =>
                f.name === 'requester_email'
                  ? ({ ...f, classification: 'secret' } as unknown as FieldSpec)
                  : f,
              ),
            },
          ],
        },
      });
      expectOnlyFailures(results, {
        'capabilities-well-formed': /field "ticket\.requester_email" has no valid classification/,
        ...refusedBySdk,
      });
    });

    it('an unknown action type (also without a sample)', async () => {
      const results = await run({
        capabilities: {
          ...REFERENCE_CAPABILITIES,
          actions: [...REFERENCE_CAPABILITIES.actions, 'merge_tickets'],
        },
      });
      expectOnlyFailures(results, {
        'capabilities-well-formed': /unknown action type "merge_tickets"/,
        'samples-cover-actions': /no sample for action "merge_tickets"/,
        ...refusedBySdk,
      });
    });

    it('a change feed the adapter does not implement', async () => {
      const results = await run({
        capabilities: { ...REFERENCE_CAPABILITIES, changeFeed: 'webhook' },
      });
      expectOnlyFailures(results, {
        'change-feed-implemented': /declares webhooks but has no parseWebhook/,
        'change-feed': /takeWebhooks is not a function/,
      });
    });
  });
});

// The same kit as connector teams use it: one Jest test per check.
describeConformance('reference', () => referenceHarness());
