import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
}

/** The functions with the most self time in each V8 .cpuprofile of `dir`, as text. */
export async function summariseProfiles(dir: string, top = 12): Promise<string> {
  const out: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const hits = new Map<string, number>();
    let total = 0;
    for (const n of profile.nodes) {
      const { functionName, url, lineNumber } = n.callFrame;
      if (functionName === '(idle)' || !n.hitCount) continue;
      const where = url
        ? `${url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, '')}:${lineNumber + 1}`
        : '';
      const key = `${functionName || '(anonymous)'} ${where}`.trim();
      hits.set(key, (hits.get(key) ?? 0) + n.hitCount);
      total += n.hitCount;
    }
    const seconds = (profile.endTime - profile.startTime) / 1e6;
    out.push(
      `${file}: ${total} samples over ${seconds.toFixed(1)} s (idle excluded); self time, top ${top}:`,
    );
    for (const [key, n] of [...hits].sort((a, b) => b[1] - a[1]).slice(0, top))
      out.push(`  ${((n / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
  return out.join('\n');
}
