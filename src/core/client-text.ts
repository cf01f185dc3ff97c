/**
 * How strings a client sent (request id, model name, version string, tensor and parameter
 * names, setting values) enter error messages and log lines: whole when short, else cut
 * with a visible count of what was cut. A client controls their length, and an error
 * message travels back as the `grpc-message` trailer: a 76,000-character id repeated in
 * it made the client's HTTP/2 stack refuse the header block and drop the connection,
 * with every other call on it. Short strings stay exactly as they were, so Triton's
 * texts are unchanged for every realistic name.
 */

/** Longest client string put whole into a message, in characters (Unicode code points). */
export const CLIENT_TEXT_MAX_CHARS = 128;

/** Most items of a client-sized list (input names, shape dims) written out in a message. */
export const CLIENT_LIST_MAX_ITEMS = 8;

/**
 * `text` as is when it has at most `maxChars` characters; else its first `maxChars`
 * characters, `…` and the full count: `aaaa… (76000 characters)`. Cuts between code
 * points, never inside a surrogate pair (a lone surrogate would make the status
 * trailer unencodable).
 */
export function clip(text: string, maxChars: number = CLIENT_TEXT_MAX_CHARS): string {
  const cut = cutText(text, maxChars);
  return cut === undefined ? text : `${cut.head}… (${cut.chars} characters)`;
}

/**
 * `text` in single quotes, as Triton quotes names: `'INPUT0'`; a long one is cut inside
 * the quotes and followed by its length: `'aaaa…' (76000 characters)`.
 */
export function quote(text: string, maxChars: number = CLIENT_TEXT_MAX_CHARS): string {
  const cut = cutText(text, maxChars);
  return cut === undefined ? `'${text}'` : `'${cut.head}…' (${cut.chars} characters)`;
}

/**
 * Names as Triton lists them, `['INPUT0','INPUT1']`, each quoted with {@link quote}; past
 * `maxItems`, the first ones and how many more: `['a',…,'h', and 9992 more]`.
 */
export function quoteList(names: readonly string[], maxItems: number = CLIENT_LIST_MAX_ITEMS): string {
  return boundedList(names, maxItems, (name) => quote(name));
}

/**
 * Items joined with commas in brackets, `[1,16]`; past `maxItems`, the first ones and how
 * many more: `[1,1,1,1,1,1,1,1, and 9992 more]`. Only the items shown are formatted.
 */
export function boundedList<T>(items: readonly T[], maxItems: number, format: (item: T) => string): string {
  const shown = items.slice(0, maxItems).map(format).join(',');
  const more = items.length - maxItems;
  return more > 0 ? `[${shown}, and ${more} more]` : `[${shown}]`;
}

/**
 * The first `maxChars` code points of `text` and its length in code points, or undefined
 * when it is not longer than that. Reads the string once, and not at all when its UTF-16
 * length already fits (a code point is one or two UTF-16 units).
 */
function cutText(text: string, maxChars: number): { head: string; chars: number } | undefined {
  if (text.length <= maxChars) return undefined;
  let chars = 0;
  let headEnd = 0;
  for (let i = 0; i < text.length; i++) {
    if (chars === maxChars) headEnd = i;
    chars += 1;
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point: step over both.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
  }
  return chars <= maxChars ? undefined : { head: text.slice(0, headEnd), chars };
}
