/**
 * A fast reader for the YAML that kubectl, Helm and most generators print: block mappings and
 * sequences, one scalar per line, plain, single- or double-quoted, `{}` and `[]`, comments and
 * `---` between documents. Pure.
 *
 * It exists for speed (issue #5): js-yaml reads such a file character by character through a
 * general YAML 1.2 state machine; this reads it line by line. It is not a second YAML parser:
 * on anything outside that subset (anchors, tags, block or flow collections and scalars, quoted
 * keys, multi-line scalars, tabs, CR line ends, directives, duplicate or merge keys, and any
 * input js-yaml would refuse) it gives up and returns null, and the caller parses the whole file
 * with js-yaml instead. Plain scalars are typed by the caller's resolver, which runs js-yaml's
 * own implicit types of the same schema, so `80`, `true`, `~` and `0x1F` mean what they mean
 * to js-yaml. For every text it accepts, the result is deep-equal to js-yaml's loadAll
 * (test/unit/load/fast-yaml.test.ts: every YAML file of the repository, generated clusters and
 * random documents).
 */

/** Turns a plain scalar into its value (js-yaml's implicit types: null, bool, int, float). */
export type PlainResolver = (text: string) => unknown;

/** Thrown to leave the subset; caught in loadAllFast only (one instance: no stack per throw). */
const UNSUPPORTED = new Error('outside the fast YAML subset');
function bail(): never {
  throw UNSUPPORTED;
}

// js-yaml refuses these anywhere in a scalar (its PATTERN_NON_PRINTABLE); refusing them anywhere
// in the text is stricter (a comment may hold them) and cheap: one regular-expression scan, which
// also refuses tabs and carriage returns (\x09, \x0D: outside the subset, js-yaml reads them).
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const UNREAD = /[\x00-\x09\x0B-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

/** Deeper than any Kubernetes object; js-yaml's own limit (maxDepth) is left to js-yaml. */
const MAX_DEPTH = 40;

const SPACE = 32, HASH = 35, DASH = 45, COLON = 58, DQUOTE = 34, SQUOTE = 39, BACKSLASH = 92;

/**
 * Characters that may start a plain scalar's implicit type (null `~ null`, bool, int, float,
 * merge `<<`); any other first character makes it a string, as js-yaml's resolvers would.
 */
const MAY_BE_TYPED = charTable('0123456789+-.~nNtTfF<');

/** A plain scalar or key may not start with these (YAML indicators) here. */
const INDICATORS = charTable('-?:,[]{}#&*!|>\'"%@`');

/** Membership by char code (ASCII), without a one-character string per lookup. */
function charTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** The escapes JSON and YAML double-quoted strings share, with the same meaning. */
const JSON_ESCAPES = new Set('"\\/bfnrtu');

class Reader {
  /** Start of the current line; its indent; where its content starts; its end (the \n or EOF). */
  pos = 0;
  ind = 0;
  cs = 0;
  eol = 0;
  /** The current line is `---` (ind is then -1, which ends every block). */
  sep = false;
  /** Open mappings and sequences: js-yaml counts each against its maxDepth. */
  depth = 0;

  constructor(private readonly text: string, private readonly resolve: PlainResolver) {}

  /** Moves to the next line that is not blank and not a comment. `from` is where to look. */
  next(from: number): void {
    const t = this.text;
    let p = from;
    for (;;) {
      if (p >= t.length) {
        this.pos = this.cs = this.eol = t.length;
        this.ind = -1;
        this.sep = false;
        return;
      }
      let e = t.indexOf('\n', p);
      if (e < 0) e = t.length;
      let c = p;
      while (c < e && t.charCodeAt(c) === SPACE) c++;
      if (c === e || t.charCodeAt(c) === HASH) {
        p = e + 1;
        continue;
      }
      this.pos = p;
      this.eol = e;
      this.cs = c;
      this.ind = c - p;
      this.sep = false;
      if (c === p) {
        const ch = t.charCodeAt(p);
        if (ch === DASH && t.startsWith('---', p)) {
          // `---` alone separates documents; `--- x`, `---x` and `...`, `%` directives are js-yaml's.
          if (e !== p + 3) bail();
          this.sep = true;
          this.ind = -1;
        } else if (ch === 46 /* . */ && t.startsWith('...', p)) bail();
        else if (ch === 37 /* % */) bail();
      }
      return;
    }
  }

  /** `- ` or a lone `-` at the content start. */
  private isSeqItem(): boolean {
    return this.isSeqItemAt(this.cs);
  }

  /** `- ` or a lone `-` at `p` on the current line. */
  private isSeqItemAt(p: number): boolean {
    if (this.text.charCodeAt(p) !== DASH) return false;
    return p + 1 === this.eol || this.text.charCodeAt(p + 1) === SPACE;
  }

  /** The node starting on the current line (its indent is this.ind). */
  node(): unknown {
    return this.isSeqItem() ? this.seq(this.ind) : this.map(this.ind);
  }

  /** The end of a line's content before a comment (` #`), trailing spaces trimmed. */
  private contentEnd(from: number): number {
    // Bounded scans only: an indexOf past the line's end would search the rest of a 16 MB
    // file for every line that has no comment.
    const t = this.text;
    let end = this.eol;
    for (let i = from + 1; i < end; i++) {
      if (t.charCodeAt(i) === HASH && t.charCodeAt(i - 1) === SPACE) {
        end = i - 1;
        break;
      }
    }
    while (end > from && t.charCodeAt(end - 1) === SPACE) end--;
    return end;
  }

  /** Index of the `:` that ends a plain key in [from, end) (followed by a space or the end), or -1. */
  private keyColon(from: number, end: number): number {
    const t = this.text;
    for (let i = from; i < end; i++) {
      if (t.charCodeAt(i) === COLON && (i + 1 === end || t.charCodeAt(i + 1) === SPACE)) return i;
    }
    return -1;
  }

  private map(mi: number): Record<string, unknown> {
    if (++this.depth > MAX_DEPTH) bail();
    const t = this.text;
    const obj: Record<string, unknown> = {};
    for (;;) {
      if (this.isSeqItem()) bail();
      const ks = this.cs;
      if (INDICATORS[t.charCodeAt(ks)] === 1) bail();
      // One scan for the line's comment: the key's colon and a plain value both end before it.
      const end = this.contentEnd(ks);
      const colon = this.keyColon(ks, end);
      if (colon < 0) bail();
      let ke = colon;
      while (ke > ks && t.charCodeAt(ke - 1) === SPACE) ke--;
      const raw = t.slice(ks, ke);
      if (raw === '<<') bail(); // a merge key (`__proto__` and other inherited names: below)
      const key = String(this.plain(raw));
      // A duplicate key is js-yaml's error to report. Values are never undefined, so a defined
      // obj[key] is a duplicate, or an inherited name (__proto__, constructor…) left to js-yaml.
      if (obj[key] !== undefined) bail();
      let vc = colon + 1;
      while (vc < this.eol && t.charCodeAt(vc) === SPACE) vc++;
      let value: unknown;
      if (vc === this.eol || t.charCodeAt(vc) === HASH) {
        // `key:` then the value's block: more indented, or a sequence at the key's own indent.
        this.next(this.eol + 1);
        if (this.ind > mi) value = this.node();
        else if (this.ind === mi && this.isSeqItem()) value = this.seq(mi);
        else value = null;
      } else {
        value = this.scalar(vc, end, mi);
      }
      obj[key] = value;
      if (this.ind < mi) {
        this.depth--;
        return obj;
      }
      // A more indented line after a scalar continues it (a multi-line scalar) or is an error;
      // after a block it is an error: both js-yaml's to read or report.
      if (this.ind > mi) bail();
    }
  }

  private seq(si: number): unknown[] {
    if (++this.depth > MAX_DEPTH) bail();
    const t = this.text;
    const arr: unknown[] = [];
    while (this.ind === si && this.isSeqItem()) {
      let c = this.cs + 1;
      while (c < this.eol && t.charCodeAt(c) === SPACE) c++;
      if (c === this.eol || t.charCodeAt(c) === HASH) {
        this.next(this.eol + 1);
        // js-yaml quirk: after an empty item it takes the next `-` line as an item of this
        // sequence even when it is less indented (readBlockSequence skips its indent check).
        if (this.ind >= 0 && this.ind < si && this.isSeqItem()) bail();
        arr.push(this.ind > si ? this.node() : null);
      } else {
        const ch = t.charCodeAt(c);
        const end = this.contentEnd(c);
        const nested = this.isSeqItemAt(c) || (ch !== DQUOTE && ch !== SQUOTE && this.keyColon(c, end) >= 0);
        if (nested) {
          // `- key: v` / `- - x`: the item's block starts at its content's column on this line.
          this.ind = c - this.pos;
          this.cs = c;
          arr.push(this.node());
        } else {
          arr.push(this.scalar(c, end, si));
        }
      }
      if (this.ind > si) bail();
    }
    this.depth--;
    return arr;
  }

  /**
   * The scalar that starts at s, a value of a node at parentIndent: to `end` (the line's content
   * before a comment), or a literal block (`|`) over the lines below. Moves to the next line after it.
   */
  private scalar(s: number, end: number, parentIndent: number): unknown {
    const ch = this.text.charCodeAt(s);
    if (ch === 124 /* | */) return this.literal(s, parentIndent); // moves on itself
    const v = ch === DQUOTE || ch === SQUOTE ? this.quoted(s, ch === DQUOTE) : this.inline(s, end);
    this.next(this.eol + 1);
    return v;
  }

  /** A plain scalar or an empty flow collection in [s, end). */
  private inline(s: number, end: number): unknown {
    const t = this.text;
    const ch = t.charCodeAt(s);
    if (ch === 123 /* { */ || ch === 91 /* [ */) {
      const flow = t.slice(s, end);
      if (flow === '{}') return {};
      if (flow === '[]') return [];
      bail();
    }
    if (INDICATORS[ch] === 1 && !((ch === DASH || ch === 63 /* ? */ || ch === COLON) && s + 1 < end && t.charCodeAt(s + 1) !== SPACE)) bail();
    // `a: b: c` is an error and a trailing `:` a key: both js-yaml's to report or read.
    if (this.keyColon(s, end) >= 0) bail();
    return this.plain(t.slice(s, end));
  }

  /**
   * A literal block scalar (`|`, `|-`, `|+`; kubectl prints multi-line annotations such as
   * last-applied-configuration this way), line for line as js-yaml's readBlockScalar reads one:
   * the first content line sets the indent (at least parentIndent + 1), blank lines count, a
   * less indented line or the end of the text ends it, then the chomping indicator applies.
   * An explicit indent (`|2`) or a folded block (`>`) is left to js-yaml.
   */
  private literal(s: number, parentIndent: number): string {
    const t = this.text;
    let h = s + 1;
    const c1 = t.charCodeAt(h);
    const chomp = c1 === DASH ? 'strip' : c1 === 43 /* + */ ? 'keep' : 'clip';
    if (chomp !== 'clip') h++;
    if (h < this.eol && t.charCodeAt(h) !== SPACE) bail();
    while (h < this.eol && t.charCodeAt(h) === SPACE) h++;
    if (h < this.eol && t.charCodeAt(h) !== HASH) bail();
    let textIndent = parentIndent + 1;
    let detected = false;
    let emptyLines = 0;
    let didRead = false;
    let out = '';
    let p = this.eol + 1;
    for (;;) {
      let i = p;
      let indent = 0;
      while ((!detected || indent < textIndent) && i < t.length && t.charCodeAt(i) === SPACE) {
        indent++;
        i++;
      }
      if (!detected && indent > textIndent) textIndent = indent;
      if (i < t.length && t.charCodeAt(i) === 10) {
        emptyLines++;
        p = i + 1;
        continue;
      }
      if (indent < textIndent || i >= t.length) {
        if (chomp === 'keep') out += '\n'.repeat(didRead ? 1 + emptyLines : emptyLines);
        else if (chomp === 'clip' && didRead) out += '\n';
        break;
      }
      out += '\n'.repeat(didRead ? 1 + emptyLines : emptyLines);
      didRead = true;
      detected = true;
      emptyLines = 0;
      let e = t.indexOf('\n', i);
      if (e < 0) e = t.length;
      out += t.slice(i, e);
      p = e + 1;
    }
    // The line that ended the block (or the end of the text) is the parser's next line.
    this.next(p);
    return out;
  }

  private plain(text: string): unknown {
    return MAY_BE_TYPED[text.charCodeAt(0)] === 1 ? this.resolve(text) : text;
  }

  /** A quoted scalar that ends on this line, followed by nothing but a comment. */
  private quoted(s: number, double: boolean): string {
    const t = this.text;
    const q = double ? DQUOTE : SQUOTE;
    let i = s + 1;
    let escapes = false;
    for (;;) {
      if (i >= this.eol) bail();
      const c = t.charCodeAt(i);
      if (double && c === BACKSLASH) {
        if (!JSON_ESCAPES.has(t[i + 1] ?? '')) bail();
        escapes = true;
        i += 2;
        continue;
      }
      if (c === q) {
        if (!double && t.charCodeAt(i + 1) === SQUOTE) {
          escapes = true;
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    let r = i + 1;
    while (r < this.eol && t.charCodeAt(r) === SPACE) r++;
    if (r < this.eol && !(t.charCodeAt(r) === HASH && r > i + 1)) bail();
    const raw = t.slice(s + 1, i);
    if (!escapes) return raw;
    if (!double) return raw.replace(/''/g, "'");
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return bail(); // a malformed \u escape: js-yaml reports it
    }
  }

  documents(): unknown[] {
    const docs: unknown[] = [];
    this.next(0);
    // Only blanks and comments: js-yaml returns [] or [null] depending on the text's length.
    if (this.ind < 0 && !this.sep) bail();
    // Content before the first `---` is the first document; a leading `---` opens it.
    for (;;) {
      if (!this.sep && this.ind < 0) break; // the end of the text
      if (this.sep) this.next(this.eol + 1);
      if (this.ind < 0) {
        // `---` followed by `---` or the end: an empty document, which js-yaml reads as null.
        docs.push(null);
        continue;
      }
      if (this.ind !== 0) bail();
      docs.push(this.node());
      if (this.ind >= 0) bail();
    }
    return docs;
  }
}

/**
 * The documents of `text` as js-yaml's loadAll would read them, or null when the text is
 * outside the subset described above (then parse it with js-yaml).
 */
export function loadAllFast(text: string, resolve: PlainResolver): unknown[] | null {
  if (text.charCodeAt(0) === 0xfeff || UNREAD.test(text)) return null;
  // As js-yaml does: a last line without its newline gets one (it matters to a `|+` block
  // whose last line is blank).
  const t = text.length > 0 && !text.endsWith('\n') ? text + '\n' : text;
  try {
    return new Reader(t, resolve).documents();
  } catch (e) {
    if (e === UNSUPPORTED) return null;
    throw e;
  }
}
