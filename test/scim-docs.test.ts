import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attributeTables } from './support/scim-attribute-table.js';

// docs/scim.md's attribute tables are the schema model's: UPDATE_DOCS=1 rewrites them after a change.
const FILE = new URL('../docs/scim.md', import.meta.url);
const START = '<!-- scim:attributes:start -->';
const END = '<!-- scim:attributes:end -->';

describe('docs/scim.md', () => {
  it('holds the attribute tables rendered from the schema model', () => {
    const doc = readFileSync(FILE, 'utf8');
    const [before, rest] = doc.split(START);
    expect(rest, `docs/scim.md has no ${START}`).toBeDefined();
    const after = rest!.split(END)[1];
    expect(after, `docs/scim.md has no ${END}`).toBeDefined();
    const expected = `${before}${START}\n${attributeTables()}${END}${after}`;
    if (process.env.UPDATE_DOCS === '1' && expected !== doc) writeFileSync(FILE, expected);
    else expect(doc).toBe(expected);
  });
});
