/** A score component (unitless) to two decimals. */
export const fmtScore = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
/** A share in [0, 1] as a percentage. */
export const fmtShare = (n: number) => `${Math.round(n * 1000) / 10}%`;


