import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  timestampScore,
  dataSizeScore,
  histogramScore,
  durationScore,
  combineBeaconScore,
  statisticalScore,
  bowleySkew,
  scoreBeacon,
  beaconCategory,
} from '../../../src/detectors/network/rita.js';

// Vectors from RITA v5 analysis/beacons_test.go (activecm/rita); tolerance ±0.05 required, we hold ±0.001 where RITA does.
const near = (a: number, b: number, tol = 0.001) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('RITA timestamp score unit cases', () => {
  near(timestampScore([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!.score, 1);
  const base = 1517338924;
  near(timestampScore(Array.from({ length: 10 }, (_, i) => base + 60 * i))!.score, 1);
  const close = timestampScore([1517338924, 1517339022, 1517339121, 1517339220, 1517339320, 1517339420, 1517339520, 1517339621, 1517339722, 1517339824])!;
  near(close.score, 0.995);
  near(close.mad, 1);
  const bimodal = timestampScore([1517338924, 1517339022, 1517339322, 1517339420, 1517339720, 1517339818, 1517340118, 1517340216, 1517340516, 1517340614, 1517340914])!;
  near(bimodal.score, 0.746);
  near(bimodal.mad, 101);
  const random = timestampScore([1517338924, 1517338925, 1517339224, 1517339249, 1517344224, 1517344314, 1517344316, 1517344358, 1517344858, 1517346358])!;
  near(random.score, 0.083);
  near(random.skew, 0.845);
  near(random.mad, 89);
  assert.equal(timestampScore([60, 60, 60, 60, 60, 60, 60, 60, 60]), null);
  assert.equal(timestampScore([1517338924, 1517338925]), null);
  assert.equal(timestampScore([]), null);
});

test('RITA data size score unit cases', () => {
  const simple = dataSizeScore([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
  near(simple.score, 0.773);
  near(simple.mad, 2.5);
  near(dataSizeScore([60, 60, 60, 60, 60, 60, 60, 60, 60])!.score, 1);
  near(dataSizeScore([98, 99, 99, 100, 100, 100, 101, 101, 102])!.score, 0.995);
  const rnd = dataSizeScore([524885, 1, 5000, 98654, 50, 41, 965842, 3])!;
  near(rnd.score, 0.008, 0.0011);
  near(rnd.skew, 0.984);
  near(rnd.mad, 2523);
  near(dataSizeScore([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])!.score, 0.5);
  assert.equal(dataSizeScore([100, 200]), null);
});

test('RITA statistical score and Bowley guards', () => {
  near(statisticalScore([7, 8, 7, 8, 7, 8, 7, 8, 7], 1).score, 1);
  near(statisticalScore([1, 1, 2, 2, 2, 2], 1).score, 1);
  near(statisticalScore([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1).score, 1);
  near(statisticalScore([-1, -2, -3, -4, -5, -6, -7, -8, -9, -10], 0).score, 0.5);
  near(bowleySkew([7.7, 6.6, 4.4, 1.1, 5.5, 3.3, 2.2]).skew, 0);
  near(bowleySkew([524885, 1, 5000, 98654, 50, 41, 965842, 3]).score, 0.017);
  assert.throws(() => bowleySkew([1, 2]));
});

test('RITA histogram score unit cases', () => {
  const o = (minH: number, bins: number) => ({ modeSensitivity: 0.05, bimodalOutlierRemoval: 1, bimodalMinHours: minH, bins });
  const base = 1517338924;
  const reg = histogramScore(base, base + 24 * 3600, Array.from({ length: 24 }, (_, i) => base + i * 3600), o(11, 24))!;
  assert.deepEqual(reg.hist, new Array(24).fill(1));
  assert.equal(reg.longestRun, 24);
  near(reg.score, 1);
  const closely = histogramScore(98, 102, [98, 99, 99, 100, 100, 100, 101, 101, 102], o(6, 8))!;
  assert.deepEqual(closely.hist, [1, 0, 2, 0, 3, 0, 2, 1]);
  assert.equal(closely.totalBars, 5);
  assert.equal(closely.longestRun, 3);
  near(closely.score, 0.064);
  const rnd = histogramScore(0, 1_000_000, [524885, 1, 5000, 98654, 50, 41, 965842, 3, 12001, 200400, 104001, 199999], o(6, 10))!;
  assert.deepEqual(rnd.hist, [7, 2, 1, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(rnd.longestRun, 4);
  near(rnd.score, 0);
  const bim = histogramScore(0, 100, [1, 2, 3, 4, 15, 21, 22, 23, 24, 35, 41, 42, 43, 44, 55, 61, 62, 63, 64, 75, 81, 82, 83, 84, 95], o(6, 10))!;
  assert.deepEqual(bim.hist, [4, 1, 4, 1, 4, 1, 4, 1, 4, 1]);
  assert.deepEqual(Object.fromEntries(bim.freqCount), { 1: 5, 4: 5 });
  near(bim.score, 1);
  const gaps = histogramScore(0, 250, [10, 20, 100, 110, 110, 220], o(6, 5))!;
  assert.deepEqual(gaps.hist, [2, 0, 3, 0, 1]);
  assert.equal(gaps.longestRun, 2);
  near(gaps.score, 0.028);
  const single = histogramScore(base, base + 24 * 3600, Array.from({ length: 10 }, (_, i) => base + 60 * i), o(1, 24))!;
  assert.equal(single.totalBars, 1);
  near(single.score, 0);
  const simple = histogramScore(1, 11, [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], o(6, 10))!;
  assert.deepEqual(simple.hist, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  near(simple.score, 0.478);
  assert.equal(histogramScore(1, 0, [1, 2], o(6, 10)), null);
});

test('RITA duration score unit cases', () => {
  const b = 1517338924;
  const H = 3600;
  near(durationScore(b, b + 24 * H, b, b + 24 * H, 24, 24).score, 1);
  near(durationScore(b, b + 24 * H, b, b + 24 * H, 6, 0).score, 1);
  near(durationScore(b, b + 24 * H, b + 12 * H, b + 24 * H, 6, 0).score, 0.5);
  near(durationScore(b, b + 24 * H, b + 6 * H, b + 24 * H, 6, 0).score, 0.75);
  near(durationScore(b, b + 24 * H, b + 12 * H, b + 18 * H, 6, 6).score, 0.5);
  near(durationScore(b, b + 24 * H, b + 6 * H, b + 18 * H, 12, 6).score, 0.5);
  near(durationScore(b, b + 24 * H, b + 6 * H, b + 18 * H, 5, 6).score, 0);
});

test('RITA beacon score combination', () => {
  near(combineBeaconScore(0.8, 0.7, 0.6, 0.5, { ts: 0.2, ds: 0.2, dur: 0.3, hist: 0.3 }), 0.63);
  near(combineBeaconScore(1, 1, 1, 1), 1);
  near(combineBeaconScore(0.1, 0.2, 0.3, 0.4), 0.25);
  near(combineBeaconScore(0.1, 0.2, 0.3, 0.4, { ts: 0.1, ds: 0.2, dur: 0.3, hist: 0.4 }), 0.3);
  near(combineBeaconScore(0.111, 0.222, 0.333, 0.444, { ts: 0.173, ds: 0.325, dur: 0.299, hist: 0.203 }), 0.281);
  near(combineBeaconScore(0.1001, 0.1002, 0.1003, 0.1004, { ts: 0.249, ds: 0.251, dur: 0.25, hist: 0.25 }), 0.10025);
  assert.throws(() => combineBeaconScore(-0.1, 0.5, 0.5, 0.5));
  assert.throws(() => combineBeaconScore(0.5, 0.5, 0.5, 0.5, { ts: 0.3, ds: 0.3, dur: 0.3, hist: 0.3 }));
});

test('whole-series scoring separates a jittered beacon from random traffic', () => {
  const start = 1_700_000_000;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  const ts: number[] = [];
  for (let t = start; t < start + 24 * 3600; t += 60 + Math.round((rnd() - 0.5) * 6)) ts.push(t);
  const bytes = ts.map(() => 300 + Math.round(rnd() * 4));
  const b = scoreBeacon(ts, bytes, start, start + 24 * 3600)!;
  assert.ok(b.score >= 0.9, `beacon score ${b.score}`);
  assert.equal(beaconCategory(b.score), 'high');
  const rts: number[] = [];
  let t = start;
  while (t < start + 24 * 3600) {
    rts.push(t);
    t += Math.round(-Math.log(1 - rnd()) * 1800);
  }
  const rb = rts.map(() => Math.round(200 + rnd() * 50_000));
  const r = scoreBeacon(rts, rb, start, start + 24 * 3600)!;
  // Poisson arrivals spread over the day still earn duration/histogram points in RITA's model;
  // the interval and size sub-scores are what separate them.
  assert.ok(r.tsScore < 0.7, `random ts ${r.tsScore}`);
  assert.ok(b.tsScore > 0.9, `beacon ts ${b.tsScore}`);
  assert.ok(r.score < b.score - 0.15, `random ${r.score} vs beacon ${b.score}`);
  assert.equal(scoreBeacon([start, start + 1, start + 2], [1, 1, 1], start, start + 10), null);
});

test('RITA v5 getBeaconScore edge cases (analysis/beacons_test.go): one active weight, weights that do not sum to 1, out-of-range inputs', () => {
  near(combineBeaconScore(0.25, 1, 1, 1, { ts: 1, ds: 0, dur: 0, hist: 0 }), 0.25);
  assert.throws(() => combineBeaconScore(1.1, 0.5, 0.5, 0.5));
  assert.throws(() => combineBeaconScore(0.5, 0.5, 0.5, 0.5, { ts: -0.1, ds: 0.25, dur: 0.25, hist: 0.25 }));
  assert.throws(() => combineBeaconScore(0.5, 0.5, 0.5, 0.5, { ts: 1.1, ds: 0.25, dur: 0.25, hist: 0.25 }));
  assert.throws(() => combineBeaconScore(0.5, 0.5, 0.5, 0.5, { ts: 0.3, ds: 0.3, dur: 0.2, hist: 0.1 }), 'weights summing to 0.9');
  assert.throws(() => combineBeaconScore(0.5, 0.5, 0.5, 0.5, { ts: 0.3, ds: 0.3, dur: 0.3, hist: 0.2 }), 'weights summing to 1.1');
});

test('RITA v5 histogram coefficient-of-variation cases (calculateCoefficientOfVariationScore) through histogramScore', () => {
  // one bin per frequency: timestamps at the middle of bin i, freq[i] times
  const cvOf = (freq: number[]) => {
    const ts: number[] = [];
    freq.forEach((f, i) => {
      for (let k = 0; k < f; k++) ts.push(i + 0.5);
    });
    const h = histogramScore(0, freq.length, ts, { modeSensitivity: 0.05, bimodalOutlierRemoval: 1, bimodalMinHours: 11, bins: freq.length })!;
    assert.deepEqual(h.hist, freq);
    return h.cvScore;
  };
  near(cvOf([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 1);
  near(cvOf([950, 970, 990, 1010, 1030, 1050, 1070]), 0.96);
  near(cvOf([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]), 0.9971406);
  near(cvOf([1, 5, 10, 50, 100, 500, 1000, 5000, 10000]), 0);
  // createHistogram "High Modal Sensitivity": sizes 9..11 fall in one mode bucket at sensitivity 0.2
  const hist = [9, 10, 11, 10, 11, 9, 10, 11, 10, 9];
  const ts: number[] = [];
  hist.forEach((f, i) => {
    for (let k = 0; k < f; k++) ts.push(i * 100 + 10 + k);
  });
  const hs = histogramScore(0, 1000, ts, { modeSensitivity: 0.2, bimodalOutlierRemoval: 1, bimodalMinHours: 6, bins: 10 })!;
  assert.deepEqual(hs.hist, hist);
  assert.deepEqual(Object.fromEntries(hs.freqCount), { 9: 10 });
  assert.equal(hs.longestRun, 10);
});
