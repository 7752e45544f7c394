import { compareStrings, compareValues, valuesEqual } from './value-order';

describe('value order (MongoDB semantics)', () => {
  it('orders strings by code point, like a byte-wise UTF-8 comparison', () => {
    expect(compareStrings('B', 'a')).toBeLessThan(0);
    expect(compareStrings('ab', 'abc')).toBeLessThan(0);
    // U+FF5E (BMP) sorts before U+1F600 (astral) by code point, though not by UTF-16 unit.
    expect(compareStrings('\uff5e', '\u{1f600}')).toBeLessThan(0);
    expect('\uff5e' < '\u{1f600}').toBe(false);
  });

  it('orders by BSON type first: null < number < string < boolean < date', () => {
    const values = [new Date(0), true, 'a', 1, null];
    expect([...values].sort(compareValues)).toEqual([null, 1, 'a', true, new Date(0)]);
  });

  it('treats dates and bytes by value', () => {
    expect(valuesEqual(new Date(5), new Date(5))).toBe(true);
    expect(valuesEqual(new Uint8Array([1]), new Uint8Array([1]))).toBe(true);
    expect(valuesEqual(1, '1')).toBe(false);
  });
});
