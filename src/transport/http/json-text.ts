/**
 * JSON.stringify that writes bigints as JSON numbers, digit for digit (statistics' nanosecond
 * totals and 64-bit counters lose nothing, as in Triton's JSON). `undefined` members are left out.
 */
export function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : jsonText(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (v !== undefined) members.push(`${JSON.stringify(key)}:${jsonText(v)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
