import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

const IMAGE = /\.(jpe?g|png|webp)$/i;

/** A frame file named `NN-<who>.jpg` shows `<who>`: a student's rollNo, `stranger`, or nobody (`empty-room`). */
export async function framesShowing(folder: string): Promise<{ frames: string[]; shown: Map<string, number> }> {
  const frames = (await readdir(folder)).filter((name) => IMAGE.test(name)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const shown = new Map<string, number>();
  for (const frame of frames) {
    const who = frame.replace(/^\d+-/, '').replace(IMAGE, '');
    shown.set(who, (shown.get(who) ?? 0) + 1);
  }
  return { frames, shown };
}

/**
 * Copies each still of `source` into `target` `times` times in a row, numbered so the order and the `NN-<who>` names
 * are kept: a camera at the door sees a person over several frames, and one frame alone marks nobody (MATCH_MIN_FRAMES).
 */
export async function holdEachStill(source: string, target: string, times: number): Promise<void> {
  await mkdir(target, { recursive: true });
  for (const still of (await framesShowing(source)).frames) {
    const [, number, who] = /^(\d+)-(.*)$/.exec(still) ?? [undefined, '0', still];
    for (let copy = 1; copy <= times; copy++) await copyFile(path.join(source, still), path.join(target, `${number}${copy}-${who}`));
  }
}

export interface Verdict {
  rollNo: string;
  framesShown: number;
  expected: 'present' | 'absent';
  actual: 'present' | 'absent';
  timestamp: string | undefined;
}

/** Each registered student: present is expected exactly when they appear in a frame. */
export function compare(rollNos: readonly string[], shown: Map<string, number>, present: readonly { rollNo: string; timestamp: string }[]): Verdict[] {
  const marked = new Map(present.map((record) => [record.rollNo, record.timestamp]));
  return rollNos.map((rollNo) => {
    const framesShown = shown.get(rollNo) ?? 0;
    return {
      rollNo,
      framesShown,
      expected: framesShown > 0 ? 'present' : 'absent',
      actual: marked.has(rollNo) ? 'present' : 'absent',
      timestamp: marked.get(rollNo),
    };
  });
}

export function formatTable(verdicts: readonly Verdict[]): string {
  const rows = [
    ['student', 'shown in', 'expected', 'marked', ''],
    ...verdicts.map((v) => [
      v.rollNo,
      v.framesShown === 0 ? 'no frame' : `${v.framesShown} frame${v.framesShown === 1 ? '' : 's'}`,
      v.expected,
      v.actual === 'present' ? `present at ${v.timestamp}` : 'absent',
      v.expected === v.actual ? 'ok' : 'UNEXPECTED',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}`).join('\n');
}
