export type Delimiter = ',' | ';' | '\t' | '|';

/** In order of preference: a tie goes to the earlier one. */
const CANDIDATES: readonly Delimiter[] = [',', ';', '\t', '|'];

export type HeaderScan =
  { done: true; delimiter: Delimiter } | { done: false; inQuotes: boolean; row: number };

const pick = (counts: number[]): Delimiter => {
  let best = 0;
  counts.forEach((count, i) => {
    if (count > counts[best]!) best = i;
  });
  return CANDIDATES[best]!;
};

/**
 * Finds the header line at the start of `text` and the delimiter that occurs most outside quotes in it.
 * Lines holding nothing but spaces, quotes and delimiters (an empty first row exported as `,,,`) come
 * before the header and are passed over, as `readRecords` passes over their records. Not done until
 * the header line ends or the text does (`atEnd`); a line without any candidate reads as `,`.
 */
export function scanHeader(text: string, atEnd: boolean): HeaderScan {
  let counts = [0, 0, 0, 0];
  let inQuotes = false;
  let meaningful = false;
  let row = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (c === '\n' || c === '\r')) {
      if (meaningful) return { done: true, delimiter: pick(counts) };
      if (c === '\r' && text[i + 1] === '\n') i++;
      row++;
      counts = [0, 0, 0, 0];
    } else {
      const k = inQuotes ? -1 : CANDIDATES.indexOf(c as Delimiter);
      if (k >= 0) counts[k]!++;
      else if (!/\s/.test(c)) meaningful = true;
    }
  }
  return atEnd ? { done: true, delimiter: pick(counts) } : { done: false, inQuotes, row };
}

/** The records `scanHeader` passes over: only spaces and delimiters, whatever the delimiter turned out to be. */
export const isBlankish = (cells: string[]): boolean => cells.every((cell) => /^[\s,;|]*$/.test(cell));
