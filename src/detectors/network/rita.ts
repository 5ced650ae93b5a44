/**
 * Beacon scoring: a reimplementation of RITA v5's published approach
 * (activecm/rita `analysis/beacons.go`, see ../shared/reference/net-anchors.md §4.1),
 * written from the description, checked against RITA's unit-test vectors
 * (test/detectors/network/rita.test.ts).
 *
 * Four sub-scores, weighted 0.25 each by default:
 *  - timestamp (TS): Bowley skew + median absolute deviation of the non-zero
 *    intervals between connection start times (integer seconds, as RITA stores them);
 *  - data size (DS): the same two measures over the originator bytes per connection;
 *  - histogram (HIST): connection counts in 24 equal bins over the analysis window,
 *    max(1 − coefficient of variation, bimodal fit);
 *  - duration (DUR): max(coverage of the window, longest run of non-empty bins / 12).
 */

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
export const ceil3 = (x: number): number => Math.ceil(x * 1000) / 1000;

/** Median of a sorted list (mean of the two middle values when even). */
export function medianSorted(a: ArrayLike<number>, lo = 0, hi = a.length): number {
  const n = hi - lo;
  if (n <= 0) return NaN;
  const m = lo + (n >> 1);
  return n % 2 === 1 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/** Tukey hinges as montanaflynn/stats `Quartile` computes them (the middle value is excluded from both halves when n is odd). */
export function quartiles(sorted: ArrayLike<number>): { q1: number; q2: number; q3: number } {
  const n = sorted.length;
  const half = n >> 1;
  const q2 = medianSorted(sorted);
  const q1 = medianSorted(sorted, 0, half);
  const q3 = medianSorted(sorted, n % 2 === 1 ? half + 1 : half, n);
  return { q1, q2, q3 };
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(values as ArrayLike<number>);
  a.sort();
  return a;
}

/** Bowley skewness with RITA's guard (IQR ≥ 10, median distinct from both quartiles); score = 1 − |skew|. */
export function bowleySkew(values: ArrayLike<number>): { skew: number; score: number } {
  if (values.length < 3) throw new Error('bowley skew needs at least 3 values');
  return bowleySorted(sortedCopy(values));
}

function bowleySorted(s: ArrayLike<number>): { skew: number; score: number } {
  const { q1, q2, q3 } = quartiles(s);
  const num = q1 + q3 - 2 * q2;
  const den = q3 - q1;
  let skew = 0;
  if (den >= 10 && q2 !== q1 && q2 !== q3) skew = num / den;
  return { skew, score: 1 - Math.abs(skew) };
}

/** Median absolute deviation (no scale constant); score = (median − MAD)/median when median ≥ 1, else `defaultScore`; clamped ≥ 0. */
export function madScore(values: ArrayLike<number>, defaultScore: number): { mad: number; median: number; score: number } {
  if (values.length === 0) throw new Error('empty input');
  return madSorted(sortedCopy(values), defaultScore);
}

function madSorted(s: ArrayLike<number>, defaultScore: number): { mad: number; median: number; score: number } {
  const median = medianSorted(s);
  const dev = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) dev[i] = Math.abs(s[i] - median);
  dev.sort();
  const mad = medianSorted(dev);
  let score = defaultScore;
  if (median >= 1) score = (median - mad) / median;
  if (score < 0 || Number.isNaN(score)) score = 0;
  return { mad, median, score };
}

/** RITA calculateStatisticalScore: round3((skewScore + madScore)/2). */
export function statisticalScore(values: ArrayLike<number>, defaultMadScore: number): { score: number; skew: number; mad: number; median: number } {
  if (values.length < 3) throw new Error('need at least 3 values');
  const s = sortedCopy(values);
  const b = bowleySorted(s);
  const m = madSorted(s, defaultMadScore);
  return { score: round3((b.score + m.score) / 2), skew: b.skew, mad: m.mad, median: m.median };
}

/** Timestamp score over connection start times in seconds (need ≥ 4 times and ≥ 3 non-zero intervals). */
export function timestampScore(tsSeconds: ArrayLike<number>): { score: number; skew: number; mad: number; medianInterval: number } | null {
  if (tsSeconds.length < 4) return null;
  let sorted = true;
  for (let i = 1; i < tsSeconds.length; i++) if (tsSeconds[i] < tsSeconds[i - 1]) sorted = false;
  const t = sorted ? tsSeconds : sortedCopy(tsSeconds);
  const d: number[] = [];
  for (let i = 0; i + 1 < t.length; i++) {
    const iv = t[i + 1] - t[i];
    if (iv > 0) d.push(iv);
  }
  if (d.length < 3) return null;
  const r = statisticalScore(d, 1);
  return { score: r.score, skew: r.skew, mad: r.mad, medianInterval: r.median };
}

/** Data-size score over originator bytes per connection (need ≥ 3 values). */
export function dataSizeScore(bytes: ArrayLike<number>): { score: number; skew: number; mad: number; medianBytes: number } | null {
  if (bytes.length < 3) return null;
  const r = statisticalScore(bytes, 0);
  return { score: r.score, skew: r.skew, mad: r.mad, medianBytes: r.median };
}

export interface HistogramOptions {
  /** `histogram_mode_sensitivity` (0.05). */
  modeSensitivity: number;
  /** `histogram_bimodal_outlier_removal` (1). */
  bimodalOutlierRemoval: number;
  /** `histogram_bimodal_min_hours_seen` (11); values < 6 are reset to 11 as RITA does. */
  bimodalMinHours: number;
  /** Number of bins over the window (24). */
  bins: number;
}

export const DEFAULT_HISTOGRAM: HistogramOptions = { modeSensitivity: 0.05, bimodalOutlierRemoval: 1, bimodalMinHours: 11, bins: 24 };

export function histogramScore(
  windowMin: number,
  windowMax: number,
  tsSeconds: ArrayLike<number>,
  opts: HistogramOptions = DEFAULT_HISTOGRAM,
): { hist: number[]; freqCount: Map<number, number>; totalBars: number; longestRun: number; cvScore: number; bimodalScore: number; score: number } | null {
  if (tsSeconds.length === 0 || windowMax <= windowMin || opts.bins <= 0) return null;
  const bins = opts.bins;
  const step = (windowMax - windowMin) / bins;
  const hist = new Array<number>(bins).fill(0);
  for (let i = 0; i < tsSeconds.length; i++) {
    const t = tsSeconds[i];
    let b = Math.floor((t - windowMin) / step);
    // RITA: edges are min + i·step; a value below the next edge stays in the bin.
    if (b > 0 && t < windowMin + b * step) b--;
    if (b < 0) b = 0;
    if (b >= bins) b = bins - 1;
    hist[b]++;
  }
  let totalBars = 0;
  let largest = 0;
  let total = 0;
  for (const h of hist) {
    if (h > 0) totalBars++;
    if (h > largest) largest = h;
    total += h;
  }
  const binSize = Math.ceil(largest * opts.modeSensitivity);
  const freqCount = new Map<number, number>();
  let longestRun = 0;
  let run = 0;
  for (let i = 0; i < bins * 2; i++) {
    const f = hist[i % bins];
    if (f > 0) run++;
    else {
      if (run > longestRun) longestRun = run;
      run = 0;
    }
    if (i < bins && f > 0) {
      const k = Math.floor(f / binSize) * binSize;
      freqCount.set(k, (freqCount.get(k) ?? 0) + 1);
    }
  }
  if (run > longestRun) longestRun = run;
  if (longestRun > bins) longestRun = bins;

  const mean = total / bins;
  let sd = 0;
  for (const h of hist) sd += (h - mean) * (h - mean);
  sd = Math.sqrt(sd / bins);
  const cv = sd / Math.abs(mean);
  let cvScore = cv > 1 ? 0 : round3(1 - cv);
  if (cvScore > 1) cvScore = 1;

  let minHours = opts.bimodalMinHours;
  if (minHours < 6) minHours = 11;
  let fit = 0;
  if (totalBars >= minHours) {
    let l = 0;
    let s2 = 0;
    for (const v of freqCount.values()) {
      if (v > l) {
        s2 = l;
        l = v;
      } else if (v > s2) s2 = v;
    }
    fit = (l + s2) / Math.max(totalBars - opts.bimodalOutlierRemoval, 1);
  }
  let bimodalScore = round3(fit);
  if (bimodalScore > 1) bimodalScore = 1;
  return { hist, freqCount, totalBars, longestRun, cvScore, bimodalScore, score: Math.max(cvScore, bimodalScore) };
}

export function durationScore(
  windowMin: number,
  windowMax: number,
  histMin: number,
  histMax: number,
  totalBars: number,
  longestRun: number,
  minHours = 6,
  idealHours = 12,
): { coverage: number; consistency: number; score: number } {
  let coverage = 0;
  let consistency = 0;
  let score = 0;
  if (windowMax > windowMin && histMax > histMin && totalBars >= minHours) {
    coverage = Math.min(1, ceil3((histMax - histMin) / (windowMax - windowMin)));
    consistency = Math.min(1, ceil3(longestRun / idealHours));
    score = Math.max(coverage, consistency);
  }
  return { coverage, consistency, score };
}

export interface BeaconWeights {
  ts: number;
  ds: number;
  dur: number;
  hist: number;
}
export const DEFAULT_WEIGHTS: BeaconWeights = { ts: 0.25, ds: 0.25, dur: 0.25, hist: 0.25 };

/** RITA getBeaconScore: weighted sum, rounded to 3 places; sub-scores and weights must be in [0,1], weights summing to 1. */
export function combineBeaconScore(ts: number, ds: number, dur: number, hist: number, w: BeaconWeights = DEFAULT_WEIGHTS): number {
  for (const s of [ts, ds, dur, hist]) if (!(s >= 0 && s <= 1)) throw new Error('scores must be between 0 and 1');
  const ws = [w.ts, w.ds, w.dur, w.hist];
  for (const x of ws) if (!(x >= 0 && x <= 1)) throw new Error('weights must be between 0 and 1');
  if (Math.abs(ws.reduce((a, b) => a + b, 0) - 1) > 1e-9) throw new Error('weights must sum to 1');
  return round3(ts * w.ts + ds * w.ds + dur * w.dur + hist * w.hist);
}

export interface BeaconResult {
  score: number;
  tsScore: number;
  dsScore: number;
  durScore: number;
  histScore: number;
  connections: number;
  uniqueTimestamps: number;
  medianInterval: number;
  intervalMad: number;
  medianBytes: number;
  bytesMad: number;
  totalBars: number;
  longestRun: number;
}

export interface BeaconOptions {
  /** RITA `unique_connection_threshold` (4). */
  minUniqueTimestamps: number;
  /** Pairs with at least this many connections are strobes, not beacons (86,400). */
  strobeLimit: number;
  weights: BeaconWeights;
  histogram: HistogramOptions;
  durMinHours: number;
  durIdealHours: number;
}

export const DEFAULT_BEACON: BeaconOptions = {
  minUniqueTimestamps: 4,
  strobeLimit: 86_400,
  weights: DEFAULT_WEIGHTS,
  histogram: DEFAULT_HISTOGRAM,
  durMinHours: 6,
  durIdealHours: 12,
};

/**
 * Score one connection series (src → dst). `tsSeconds`: connection start times in
 * seconds (integers, as RITA); `bytes`: originator IP bytes per connection;
 * `windowMin`/`windowMax`: the analysis window in seconds (RITA: the dataset's
 * last 24 h). Returns null when the series is not eligible.
 */
export function scoreBeacon(
  tsSeconds: ArrayLike<number>,
  bytes: ArrayLike<number>,
  windowMin: number,
  windowMax: number,
  opts: BeaconOptions = DEFAULT_BEACON,
): BeaconResult | null {
  const n = tsSeconds.length;
  if (n === 0 || n >= opts.strobeLimit || windowMax <= windowMin) return null;
  const t = Float64Array.from(tsSeconds as ArrayLike<number>).sort();
  let unique = 1;
  for (let i = 1; i < n; i++) if (t[i] !== t[i - 1]) unique++;
  if (unique < opts.minUniqueTimestamps) return null;
  const ts = timestampScore(t);
  const ds = dataSizeScore(bytes);
  if (!ts || !ds) return null;
  const h = histogramScore(windowMin, windowMax, t, opts.histogram);
  if (!h) return null;
  const dur = durationScore(windowMin, windowMax, t[0], t[n - 1], h.totalBars, h.longestRun, opts.durMinHours, opts.durIdealHours);
  const score = combineBeaconScore(ts.score, ds.score, dur.score, h.score, opts.weights);
  return {
    score,
    tsScore: ts.score,
    dsScore: ds.score,
    durScore: dur.score,
    histScore: h.score,
    connections: n,
    uniqueTimestamps: unique,
    medianInterval: ts.medianInterval,
    intervalMad: ts.mad,
    medianBytes: ds.medianBytes,
    bytesMad: ds.mad,
    totalBars: h.totalBars,
    longestRun: h.longestRun,
  };
}

/** RITA's bucketed threat level for a beacon score (0..1): none < 0.5 ≤ low < 0.7 ≤ medium < 0.9 ≤ high. */
export function beaconCategory(score: number): 'none' | 'low' | 'medium' | 'high' {
  if (score >= 0.9) return 'high';
  if (score >= 0.7) return 'medium';
  if (score >= 0.5) return 'low';
  return 'none';
}
