import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aliasTable } from './support/alias-table.js';

// docs/api.md's header aliases are the alias table's: UPDATE_DOCS=1 rewrites them after a change.
const FILE = new URL('../docs/api.md', import.meta.url);
const START = '<!-- imports:aliases:start -->';
const END = '<!-- imports:aliases:end -->';

describe('docs/api.md', () => {
  it('lists the header aliases rendered from the alias table', () => {
    const doc = readFileSync(FILE, 'utf8');
    const [before, rest] = doc.split(START);
    expect(rest, `docs/api.md has no ${START}`).toBeDefined();
    const after = rest!.split(END)[1];
    expect(after, `docs/api.md has no ${END}`).toBeDefined();
    const expected = `${before}${START}\n${aliasTable()}${END}${after}`;
    if (process.env.UPDATE_DOCS === '1' && expected !== doc) writeFileSync(FILE, expected);
    else expect(doc).toBe(expected);
  });
});
