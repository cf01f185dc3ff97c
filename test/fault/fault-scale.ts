/**
 * How much longer the fault tests run than in CI: NEREID_FAULT_SCALE=10 sends ten times the
 * messages and keeps loads ten times as long. CI runs them at 1 (about a minute together).
 */
export function faultScale(): number {
  const raw = process.env['NEREID_FAULT_SCALE'];
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`NEREID_FAULT_SCALE must be a positive number, got '${raw}'`);
  return scale;
}
