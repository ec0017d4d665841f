import type { OperatingPoint } from './open-set.ts';

export interface ChartInput {
  title: string;
  /** Distance from each genuine probe to its own person's nearest enrolled photo. */
  genuineDistances: number[];
  /** Distance from each stranger to the nearest enrolled student. */
  strangerDistances: number[];
  sweep: OperatingPoint[];
  threshold: number;
}

const W = 440;
const H = 300;
const PAD = { left: 48, right: 16, top: 36, bottom: 44 };
const X0 = 0.2;
const X1 = 1.0;
const GENUINE = '#1f77b4';
const STRANGER = '#d62728';

const fmt = (n: number) => n.toFixed(1);
const px = (d: number) => PAD.left + ((d - X0) / (X1 - X0)) * (W - PAD.left - PAD.right);
const py = (fraction: number) => H - PAD.bottom - fraction * (H - PAD.top - PAD.bottom);

function axes(title: string, yLabel: string): string {
  const ticks = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    .map((d) => `<line x1="${fmt(px(d))}" y1="${H - PAD.bottom}" x2="${fmt(px(d))}" y2="${H - PAD.bottom + 4}" stroke="#333"/>` +
      `<text x="${fmt(px(d))}" y="${H - PAD.bottom + 16}" text-anchor="middle">${d.toFixed(1)}</text>`)
    .join('');
  return `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>` +
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#333"/>` +
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#333"/>${ticks}` +
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">descriptor distance</text>` +
    `<text x="12" y="${H / 2}" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">${yLabel}</text>`;
}

function histogram(values: number[], colour: string, bins: number, peak: number): string {
  const width = (X1 - X0) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - X0) / width)))]! += 1;
  return counts
    .map((count, i) => {
      const fraction = values.length === 0 ? 0 : count / values.length / peak;
      return `<rect x="${fmt(px(X0 + i * width))}" y="${fmt(py(fraction))}" width="${fmt(px(X0 + width) - px(X0))}" ` +
        `height="${fmt(py(0) - py(fraction))}" fill="${colour}" fill-opacity="0.45" stroke="${colour}"/>`;
    })
    .join('');
}

function share(values: number[], bins: number): number {
  const width = (X1 - X0) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - X0) / width)))]! += 1;
  return values.length === 0 ? 0 : Math.max(...counts) / values.length;
}

function curve(points: OperatingPoint[], value: (p: OperatingPoint) => number, colour: string): string {
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(px(p.threshold))},${fmt(py(value(p)))}`).join(' ');
  return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`;
}

function legend(x: number, entries: [string, string][]): string {
  return entries
    .map(([label, colour], i) => `<rect x="${x}" y="${PAD.top + i * 16}" width="10" height="10" fill="${colour}"/>` +
      `<text x="${x + 14}" y="${PAD.top + 9 + i * 16}">${label}</text>`)
    .join('');
}

/** Two panels as one SVG: distance distributions, and accept rates against the threshold. */
export function distanceChartSvg(input: ChartInput): string {
  const bins = 32;
  const peak = Math.max(share(input.genuineDistances, bins), share(input.strangerDistances, bins), 0.01) * 1.1;
  const marker = (label: string) =>
    `<line x1="${fmt(px(input.threshold))}" y1="${PAD.top}" x2="${fmt(px(input.threshold))}" y2="${H - PAD.bottom}" stroke="#555" stroke-dasharray="4 3"/>` +
    `<text x="${fmt(px(input.threshold) + 4)}" y="${H - PAD.bottom - 6}" fill="#555">${label}</text>`;
  const left = axes('Nearest-student distance', 'share of probes') +
    histogram(input.genuineDistances, GENUINE, bins, peak) +
    histogram(input.strangerDistances, STRANGER, bins, peak) +
    marker(`threshold ${input.threshold}`) +
    legend(W - 170, [[`genuine (${input.genuineDistances.length})`, GENUINE], [`stranger (${input.strangerDistances.length})`, STRANGER]]);
  const yTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${PAD.left - 6}" y="${fmt(py(f) + 4)}" text-anchor="end">${Math.round(f * 100)}%</text>`)
    .join('');
  const right = axes('Accept rate by threshold', 'accepted') + yTicks +
    curve(input.sweep, (p) => p.rightAcceptRate, GENUINE) +
    curve(input.sweep, (p) => p.strangerAcceptRate, STRANGER) +
    curve(input.sweep, (p) => (p.genuine === 0 ? 0 : p.wrongAccepts / p.genuine), '#ff7f0e') +
    marker(`${input.threshold}`) +
    legend(PAD.left + 8, [['genuine, right student', GENUINE], ['stranger, anyone', STRANGER], ['genuine, wrong student', '#ff7f0e']]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * 2}" height="${H + 24}" font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<g>${left}</g><g transform="translate(${W},0)">${right}</g>` +
    `<text x="8" y="${H + 16}" fill="#555">${input.title}</text></svg>\n`;
}
