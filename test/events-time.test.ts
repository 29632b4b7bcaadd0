import { describe, expect, it } from 'vitest';
import {
  MAX_SIM_TIME,
  PS_PER_MS,
  PS_PER_NS,
  PS_PER_S,
  PS_PER_US,
  SimTimeOverflowError,
  checkedAdd,
  cyclesToPs,
  formatTime,
} from '../src/events/index.js';

describe('time units and range', () => {
  it('counts picoseconds', () => {
    expect(PS_PER_NS).toBe(1e3);
    expect(PS_PER_US).toBe(1e6);
    expect(PS_PER_MS).toBe(1e9);
    expect(PS_PER_S).toBe(1e12);
  });

  it('ends at the largest safe integer, about 9007 s', () => {
    expect(MAX_SIM_TIME).toBe(Number.MAX_SAFE_INTEGER);
    expect(MAX_SIM_TIME / PS_PER_S).toBeCloseTo(9007.2, 1);
  });
});

describe('cyclesToPs', () => {
  it('converts cycles at a clock rate to whole picoseconds', () => {
    expect(cyclesToPs(1, 1e9)).toBe(1000);
    expect(cyclesToPs(3, 3e9)).toBe(1000);
    expect(cyclesToPs(0, 2e9)).toBe(0);
    expect(cyclesToPs(1, 3e9)).toBe(333); // 333.33 rounds down
    expect(cyclesToPs(2, 3e9)).toBe(667); // 666.67 rounds up
    expect(cyclesToPs(1.5, 1e9)).toBe(1500);
  });

  it('throws on bad cycles or clock rates', () => {
    expect(() => cyclesToPs(-1, 1e9)).toThrow(RangeError);
    expect(() => cyclesToPs(NaN, 1e9)).toThrow(RangeError);
    expect(() => cyclesToPs(Infinity, 1e9)).toThrow(RangeError);
    expect(() => cyclesToPs(1, 0)).toThrow(RangeError);
    expect(() => cyclesToPs(1, -1e9)).toThrow(RangeError);
    expect(() => cyclesToPs(1, NaN)).toThrow(RangeError);
  });

  it('throws SimTimeOverflowError past the range', () => {
    // 10^13 cycles at 1 GHz is 10^4 s, past about 9007 s.
    expect(() => cyclesToPs(1e13, 1e9)).toThrow(SimTimeOverflowError);
    expect(cyclesToPs(9e12, 1e9)).toBe(9e15);
  });
});

describe('checkedAdd', () => {
  it('adds', () => {
    expect(checkedAdd(5, 7)).toBe(12);
    expect(checkedAdd(MAX_SIM_TIME - 1, 1)).toBe(MAX_SIM_TIME);
  });

  it('throws SimTimeOverflowError past MAX_SIM_TIME instead of losing precision', () => {
    expect(() => checkedAdd(MAX_SIM_TIME, 1)).toThrow(SimTimeOverflowError);
    expect(() => checkedAdd(MAX_SIM_TIME - 10, 11)).toThrow(/overflow/);
    expect(() => checkedAdd(1, MAX_SIM_TIME)).toThrow(SimTimeOverflowError);
  });

  it('throws RangeError on a negative or fractional delay', () => {
    expect(() => checkedAdd(5, -1)).toThrow(RangeError);
    expect(() => checkedAdd(5, 0.5)).toThrow(RangeError);
    expect(() => checkedAdd(5, NaN)).toThrow(RangeError);
    expect(() => checkedAdd(5, Infinity)).toThrow(RangeError);
  });
});

describe('formatTime', () => {
  it('picks the largest unit with three decimals', () => {
    expect(formatTime(0)).toBe('0 ps');
    expect(formatTime(17)).toBe('17 ps');
    expect(formatTime(1_500)).toBe('1.500 ns');
    expect(formatTime(2 * PS_PER_US)).toBe('2.000 us');
    expect(formatTime(1_234_000_000)).toBe('1.234 ms');
    expect(formatTime(396 * PS_PER_MS)).toBe('396.000 ms');
    expect(formatTime(MAX_SIM_TIME)).toBe('9007.199 s');
  });
});
