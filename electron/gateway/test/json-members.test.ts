// The zero-copy legacy decoder's JSON scan agrees with JSON.parse: on random documents the member slices
// parse to the same values, and every mutation JSON.parse refuses is refused too (or parses to the same).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonScanError, topLevelMembers } from '../json-members';

let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const int = (n: number): number => Math.floor(rand() * n);

function randomValue(depth: number): unknown {
  const k = depth > 3 ? int(4) : int(7);
  if (k === 0) return int(2) === 0 ? null : rand() < 0.5;
  if (k === 1) return (rand() - 0.5) * 10 ** int(12);
  if (k === 2 || k === 3) {
    const chars = ['a', '"', '\\', '\n', 'é', '\u0001', '}', ']', '{', ',', ':', '😀', '\u2028'];
    return Array.from({ length: int(12) }, () => chars[int(chars.length)]).join('');
  }
  if (k === 4) return Array.from({ length: int(4) }, () => randomValue(depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < int(5); i++) o[`k${int(6)}"\\${i}`] = randomValue(depth + 1);
  return o;
}

describe('top-level JSON members', () => {
  test('slices of random objects parse to the values JSON.parse gives', () => {
    for (let i = 0; i < 2000; i++) {
      const doc = { header: randomValue(0), content: randomValue(0), [`x${i}`]: randomValue(0) };
      const text = int(2) ? JSON.stringify(doc) : JSON.stringify(doc, null, int(4));
      const buf = Buffer.from(text);
      const members = topLevelMembers(buf);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual([...members.keys()].sort(), Object.keys(parsed).sort());
      for (const [name, r] of members) {
        assert.deepEqual(JSON.parse(buf.toString('utf8', r.start, r.end)), parsed[name], text);
      }
    }
  });

  test('mutated documents: what JSON.parse refuses is refused (nothing is accepted that is not JSON)', () => {
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const text = JSON.stringify({ header: { msg_type: 'x' }, content: randomValue(0) });
      const at = int(text.length);
      const cut = int(3);
      const junk = ['', '"', '\\', '}', '{', ',', ':', '1', 'tru', '\\u12', ' '][int(11)];
      const bad = text.slice(0, at) + junk + text.slice(at + cut);
      let jsonOk = true;
      let value: unknown;
      try {
        value = JSON.parse(bad);
      } catch {
        jsonOk = false;
      }
      const objectOk = jsonOk && typeof value === 'object' && value !== null && !Array.isArray(value);
      let scanOk = true;
      try {
        topLevelMembers(Buffer.from(bad));
      } catch (err) {
        assert.ok(err instanceof JsonScanError, String(err));
        scanOk = false;
      }
      // The scan skips one check JSON.parse makes: raw control characters inside strings (the kernel's
      // parser refuses those). Everything else must agree.
      if (scanOk && !objectOk) {
        assert.ok(
          [...bad].some((ch) => ch.charCodeAt(0) < 0x20),
          `accepted: ${bad}`,
        );
      }
      if (!scanOk) {
        refused++;
        assert.ok(!objectOk, `refused valid JSON: ${bad}`);
      }
    }
    assert.ok(refused > 1000, `only ${refused} mutations were refused`);
  });

  test('a 32 MB string with many escapes is scanned in linear time (no quadratic search)', () => {
    const big = JSON.stringify({
      header: { msg_type: 'x' },
      content: { code: 'a\\n"b'.repeat(8 * 1024 * 1024) },
    });
    const members = topLevelMembers(Buffer.from(big));
    assert.ok(members.has('content'));
  });
});
