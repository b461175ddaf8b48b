// The byte ranges of a JSON object's top-level members, found without building the values. A legacy kernel
// frame is one JSON object whose `content` may hold hundreds of megabytes (a big cell, a file upload):
// JSON.parse + JSON.stringify of it would hold four copies at once. Here the content stays a slice of the
// frame, and only the small header is parsed. The scan checks the structure (balanced brackets, closed strings,
// valid literals and escapes); what it cannot see cheaply (control characters inside long strings) the
// kernel's own JSON parser refuses.

/** Thrown for bytes that are not one JSON object; the message says what and where. */
export class JsonScanError extends Error {}

export interface MemberRange {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74, 0x75]);
const MAX_DEPTH = 512;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

const NONE = Number.MAX_SAFE_INTEGER;

class Scanner {
  /** Position of the next backslash at or after pos (NONE: there is none before the end). */
  private nextBackslash = -1;

  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  fail(what: string): never {
    throw new JsonScanError(`${what} at byte ${this.pos}`);
  }

  ws(): void {
    while (this.pos < this.end && isWs(this.b[this.pos])) this.pos++;
  }

  peek(): number {
    if (this.pos >= this.end) this.fail('unexpected end of JSON');
    return this.b[this.pos];
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  /** Skip a string (pos at its opening quote). Runs are found with indexOf, so a long string costs little. */
  string(): void {
    const b = this.b;
    this.pos++;
    let q = b.indexOf(QUOTE, this.pos);
    for (;;) {
      if (q < 0 || q >= this.end) this.fail('unterminated string');
      // The next backslash is remembered across strings, so each byte is searched once: the scan is linear.
      if (this.nextBackslash !== NONE && this.nextBackslash < this.pos) {
        const i = b.indexOf(BACKSLASH, this.pos);
        this.nextBackslash = i < 0 || i >= this.end ? NONE : i;
      }
      if (this.nextBackslash === NONE || this.nextBackslash > q) {
        this.pos = q + 1;
        return;
      }
      const at = this.nextBackslash;
      const e = b[at + 1];
      if (!ESCAPES.has(e)) {
        this.pos = at;
        this.fail('invalid escape in string');
      }
      if (e === 0x75) {
        for (let i = 2; i < 6; i++) {
          if (at + i >= this.end || !isHex(b[at + i])) {
            this.pos = at;
            this.fail('invalid \\u escape in string');
          }
        }
        this.pos = at + 6;
      } else {
        this.pos = at + 2;
      }
      if (q < this.pos) q = b.indexOf(QUOTE, this.pos); // that quote was escaped
    }
  }

  literal(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.pos + i >= this.end || this.b[this.pos + i] !== text.charCodeAt(i))
        this.fail('invalid literal');
    }
    this.pos += text.length;
  }

  number(): void {
    const b = this.b;
    const start = this.pos;
    if (b[this.pos] === 0x2d) this.pos++;
    const digits = (): number => {
      const s = this.pos;
      while (this.pos < this.end && b[this.pos] >= 0x30 && b[this.pos] <= 0x39) this.pos++;
      return this.pos - s;
    };
    if (this.pos < this.end && b[this.pos] === 0x30) this.pos++;
    else if (digits() === 0) this.fail('invalid number');
    if (this.pos < this.end && b[this.pos] === 0x2e) {
      this.pos++;
      if (digits() === 0) this.fail('invalid number');
    }
    if (this.pos < this.end && (b[this.pos] === 0x65 || b[this.pos] === 0x45)) {
      this.pos++;
      if (this.pos < this.end && (b[this.pos] === 0x2b || b[this.pos] === 0x2d)) this.pos++;
      if (digits() === 0) this.fail('invalid number');
    }
    if (this.pos === start) this.fail('invalid number');
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const c = this.peek();
    if (c === QUOTE) return this.string();
    if (c === 0x7b) return this.container(depth, 0x7d, true);
    if (c === 0x5b) return this.container(depth, 0x5d, false);
    if (c === 0x74) return this.literal('true');
    if (c === 0x66) return this.literal('false');
    if (c === 0x6e) return this.literal('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    this.fail('unexpected character');
  }

  /** An object (`keyed`) or an array; pos at its opening bracket. */
  container(depth: number, close: number, keyed: boolean): void {
    this.pos++;
    this.ws();
    if (this.peek() === close) {
      this.pos++;
      return;
    }
    for (;;) {
      if (keyed) {
        this.ws();
        if (this.peek() !== QUOTE) this.fail('expected a member name');
        this.string();
        this.ws();
        this.expect(0x3a, '":"');
      }
      this.ws();
      this.value(depth + 1);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === close) return;
      if (c !== 0x2c) {
        this.pos--;
        this.fail(keyed ? 'expected "," or "}"' : 'expected "," or "]"');
      }
    }
  }
}

/**
 * The top-level members of the JSON object in `b[start, end)`: name → byte range of its value (the last one
 * wins for a repeated name, as with JSON.parse). Throws JsonScanError if the bytes are not one JSON object.
 */
export function topLevelMembers(b: Buffer, start = 0, end = b.length): Map<string, MemberRange> {
  const s = new Scanner(b, start, end);
  const members = new Map<string, MemberRange>();
  s.ws();
  if (s.peek() !== 0x7b) s.fail('expected a JSON object');
  s.pos++;
  s.ws();
  if (s.peek() === 0x7d) {
    s.pos++;
  } else {
    for (;;) {
      s.ws();
      if (s.peek() !== QUOTE) s.fail('expected a member name');
      const keyStart = s.pos;
      s.string();
      const name = JSON.parse(b.toString('utf8', keyStart, s.pos)) as string;
      s.ws();
      s.expect(0x3a, '":"');
      s.ws();
      const valueStart = s.pos;
      s.value(1);
      members.set(name, { start: valueStart, end: s.pos });
      s.ws();
      const c = s.peek();
      s.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) {
        s.pos--;
        s.fail('expected "," or "}"');
      }
    }
  }
  s.ws();
  if (s.pos !== end) s.fail('unexpected data after the JSON object');
  return members;
}
