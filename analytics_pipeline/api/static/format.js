// Number, money and time formatting for the dashboard, in the viewer's locale.
// The API sends money as decimal strings (exact); they become Numbers only here, for
// display, where binary rounding below a cent cannot show.

const moneyFormats = new Map();

function moneyFormat(currency, compact) {
  const key = `${currency}:${compact}`;
  if (!moneyFormats.has(key)) {
    moneyFormats.set(key, new Intl.NumberFormat(undefined, compact
      ? { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }
      : { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  }
  return moneyFormats.get(key);
}

export function toNumber(value) {
  if (value === null || value === undefined || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/** "1234.5000" + "USD" -> "$1,234.50"; missing values show as an en dash. */
export function money(value, currency) {
  const number = toNumber(value);
  return number === null ? "–" : moneyFormat(currency, false).format(number);
}

/** Short money for chart axes: "$12K". */
export function moneyShort(value, currency) {
  const number = toNumber(value);
  return number === null ? "" : moneyFormat(currency, true).format(number);
}

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function integer(value) {
  const number = toNumber(value);
  return number === null ? "–" : integerFormat.format(number);
}

export function decimal(value) {
  const number = toNumber(value);
  return number === null ? "–" : decimalFormat.format(number);
}

const percentFormat = new Intl.NumberFormat(undefined, {
  style: "percent", maximumFractionDigits: 1,
});
const changeFormat = new Intl.NumberFormat(undefined, {
  style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero",
});

/** Percent values arrive in percent already (42.83 means 42.83 %). */
export function percent(value, signed = false) {
  const number = toNumber(value);
  if (number === null) return "–";
  return (signed ? changeFormat : percentFormat).format(number / 100);
}

const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** An ISO timestamp as the viewer's wall-clock time, HH:MM:SS. */
export function clock(iso) {
  const moment = iso ? new Date(iso) : new Date();
  return clockFormat.format(Number.isNaN(moment.getTime()) ? new Date() : moment);
}

const dayFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric", month: "short", timeZone: "UTC",
});

/** "2026-11-24" -> "24 Nov" (dates are calendar days of the store: no zone shift). */
export function shortDate(isoDate) {
  return isoDate ? dayFormat.format(new Date(`${isoDate}T00:00:00Z`)) : "–";
}

/** "2026-11-24" -> seconds since the epoch at UTC midnight, uPlot's x unit. */
export function daySeconds(isoDate) {
  return Date.parse(`${isoDate}T00:00:00Z`) / 1000;
}
