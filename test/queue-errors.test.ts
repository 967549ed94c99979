import { describe, expect, it } from 'vitest';
import { queueErrorLogger } from '../src/queues/producer.js';

describe('the Queue error listener', () => {
  it('logs at most once per interval, with the count of the errors it left out', () => {
    const lines: object[] = [];
    let clock = 0;
    const onError = queueErrorLogger({ warn: (obj) => lines.push(obj) }, 'imports', 10_000, () => clock);
    onError(new Error('ECONNREFUSED'));
    for (clock = 1_000; clock < 10_000; clock += 1_000) onError(new Error('ECONNREFUSED'));
    expect(lines).toHaveLength(1);
    clock = 10_000;
    onError(new Error('ECONNREFUSED'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ queue: 'imports', suppressed: 0 });
    expect(lines[1]).toMatchObject({ queue: 'imports', suppressed: 9 });
  });
});
