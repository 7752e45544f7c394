import { betaQuantile, logGamma, regularizedIncompleteBeta } from './beta-distribution';

/**
 * Independent check 1: I_x(a, b) = ∫0^x t^(a−1)(1−t)^(b−1) dt / ∫0^1 (same), by Simpson's rule.
 * Accurate to ~1e-7 only (non-integer exponents have a kink at the ends), hence 6 digits below.
 */
function simpsonCdf(x: number, a: number, b: number, n = 20_000): number {
  const f = (t: number) => Math.pow(t, a - 1) * Math.pow(1 - t, b - 1);
  const integrate = (hi: number) => {
    const h = hi / n;
    let s = f(0) + f(hi);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(i * h);
    return (s * h) / 3;
  };
  return integrate(x) / integrate(1);
}

/** Independent check 2: for integer a, b, I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a). */
function binomialCdf(x: number, a: number, b: number): number {
  const n = a + b - 1;
  let sum = 0;
  let coeff = 1; // C(n, j), built up iteratively
  for (let j = 0; j <= n; j++) {
    if (j > 0) coeff = (coeff * (n - j + 1)) / j;
    if (j >= a) sum += coeff * Math.pow(x, j) * Math.pow(1 - x, n - j);
  }
  return sum;
}

describe('logGamma', () => {
  it('matches known values of Γ', () => {
    expect(Math.exp(logGamma(5))).toBeCloseTo(24, 10);
    expect(Math.exp(logGamma(0.5))).toBeCloseTo(Math.sqrt(Math.PI), 12);
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln(100!)
  });
  it('refuses non-positive arguments', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
    expect(() => logGamma(-1)).toThrow(RangeError);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('has the closed forms of the uniform and power cases', () => {
    for (const x of [0.01, 0.2, 0.5, 0.77, 0.999]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(regularizedIncompleteBeta(x, 3.5, 1)).toBeCloseTo(Math.pow(x, 3.5), 13);
      expect(regularizedIncompleteBeta(x, 1, 4)).toBeCloseTo(1 - Math.pow(1 - x, 4), 13);
    }
  });

  it('is symmetric: I_x(a, b) = 1 − I_(1−x)(b, a), and I_0.5(a, a) = 0.5', () => {
    expect(regularizedIncompleteBeta(0.5, 7.3, 7.3)).toBeCloseTo(0.5, 13);
    expect(regularizedIncompleteBeta(0.3, 2.5, 6)).toBeCloseTo(
      1 - regularizedIncompleteBeta(0.7, 6, 2.5),
      13,
    );
  });

  it.each([
    [0.3, 2, 5],
    [0.6, 10, 2],
    [0.9, 41, 3],
    [0.95, 61, 2],
    [0.42, 12, 17],
  ])('agrees with the binomial sum at x=%p, a=%p, b=%p', (x, a, b) => {
    expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(binomialCdf(x, a, b), 12);
  });

  it.each([
    [0.3, 1.5, 2.5],
    [0.7, 7.25, 2.5],
    [0.85, 18.5, 3.5],
    [0.5, 2.2, 2.2],
  ])('agrees with a Simpson integral of the density at x=%p, a=%p, b=%p', (x, a, b) => {
    expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(simpsonCdf(x, a, b), 6);
  });

  it('is 0 at and below 0, 1 at and above 1', () => {
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(-1, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });

  it('refuses invalid shapes and NaN', () => {
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, 1, -2)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, Infinity, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(NaN, 1, 1)).toThrow(RangeError);
  });
});

describe('betaQuantile', () => {
  it('matches known values', () => {
    expect(betaQuantile(0.05, 1, 1)).toBeCloseTo(0.05, 12);
    expect(betaQuantile(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    // Beta(a, 1): x^a = q.
    expect(betaQuantile(0.05, 11, 1)).toBeCloseTo(Math.pow(0.05, 1 / 11), 12);
    // Beta(10, 2): CDF x^10 (11 − 10x) = 0.05 at x ≈ 0.635641 (solved independently below).
    expect(betaQuantile(0.05, 10, 2)).toBeCloseTo(0.6356405, 6);
  });

  it('inverts the closed-form Beta(10, 2) CDF', () => {
    const x = betaQuantile(0.05, 10, 2);
    expect(Math.pow(x, 10) * (11 - 10 * x)).toBeCloseTo(0.05, 12);
  });

  it.each([
    [0.05, 2.5, 1.5],
    [0.05, 20.5, 4],
    [0.1, 7.25, 2.5],
    [0.9, 3, 9.5],
  ])('q=%p of Beta(%p, %p) has a Simpson CDF of q', (q, a, b) => {
    expect(simpsonCdf(betaQuantile(q, a, b), a, b)).toBeCloseTo(q, 6);
  });

  it('handles large posteriors (as capped trust can reach)', () => {
    const x = betaQuantile(0.05, 201, 3);
    expect(binomialCdf(x, 201, 3)).toBeCloseTo(0.05, 10);
  });

  it('maps q = 0 and q = 1 to the ends and refuses q outside 0..1', () => {
    expect(betaQuantile(0, 3, 4)).toBe(0);
    expect(betaQuantile(1, 3, 4)).toBe(1);
    expect(() => betaQuantile(1.2, 1, 1)).toThrow(RangeError);
    expect(() => betaQuantile(NaN, 1, 1)).toThrow(RangeError);
  });
});
