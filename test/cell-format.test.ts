import { describe, expect, it } from 'vitest';
import { isDateCode, lastRowOf } from '../src/imports/pipeline/cell-format.js';

describe('isDateCode', () => {
  it.each([
    ['yyyy-mm-dd', true],
    ['[$-409]d-mmm-yy', true],
    ['h:mm AM/PM', true],
    ['0.00', false],
    ['[Red]0.00', false],
    ['"days"0', false],
    ['\\d0', false],
    ['#,##0 "[h]"', false],
    ['[h', true],
    ['"d', true],
  ])('%j shows a date: %s', (code, date) => {
    expect(isDateCode(code)).toBe(date);
  });

  it('reads a code of 200,000 unclosed brackets or quotes in one pass', () => {
    expect(isDateCode('['.repeat(200_000))).toBe(false);
    expect(isDateCode(`${'['.repeat(200_000)}0`)).toBe(false);
    expect(isDateCode(`${'[a'.repeat(100_000)}y`)).toBe(true);
    expect(isDateCode(`${'"'.repeat(200_001)}0`)).toBe(false);
    expect(isDateCode('\\'.repeat(200_000))).toBe(false);
  });
});

describe('lastRowOf', () => {
  it.each([
    ['A1:E200', 200],
    ['A1', 1],
    ['A1:E', null],
    ['', null],
    [undefined, null],
  ])('%j ends at row %s', (ref, row) => {
    expect(lastRowOf(ref)).toBe(row);
  });

  it('reads a reference of 200,000 digits ending in a letter, and one ending in digits, in one pass', () => {
    expect(lastRowOf(`A1:A${'9'.repeat(200_000)}X`)).toBeNull();
    expect(lastRowOf(`A1:A${'1'.repeat(200_000)}`)).toBe(Number.POSITIVE_INFINITY);
  });
});
