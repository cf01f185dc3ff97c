/**
 * How option builders read the raw flag values: the last value of an option, parsed and
 * range-checked, with errors naming the flag (or the NEREID_* variable that stood in for it).
 * load-config.ts makes one set per command line and hands it to the builders of each part.
 */
export interface ValueReaders {
  /** Every value given for a list option (flags after environment). */
  list(name: string): readonly string[];
  /** The last value given, or undefined. */
  given(name: string): string | undefined;
  str(name: string, fallback: string): string;
  int(name: string, fallback: number, min: number, max: number): number;
  bool(name: string, fallback: boolean): boolean;
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T;
  /** How the user wrote the option: `--name`, or `NEREID_NAME (--name)`. */
  label(name: string): string;
  /** Records a start-up warning about a flag (logged once the logger exists). */
  warn(flag: string, message: string): void;
}
