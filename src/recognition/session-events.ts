import { z } from 'zod';
import { ENROLLMENT_ERROR_CODES } from '../errors.ts';
import { AttendanceChangeSchema, ManualRecordSchema } from '../storage/attendance-store.ts';

export const SessionEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session-started'), sessionId: z.string(), camera: z.string(), students: z.number().int(), room: z.string().nullable() }),
  z.object({ type: z.literal('session-stopped'), sessionId: z.string(), reason: z.enum(['stopped', 'failed']), recognizedThisSession: z.number().int() }),
  z.object({
    type: z.literal('student-present'),
    sessionId: z.string(),
    rollNo: z.string(),
    day: z.string(),
    timestamp: z.string(),
    source: z.enum(['camera', 'photo']).describe('photo: the session took the roll from a class photo (POST /recognize-photo)'),
    distance: z.number(),
    room: z.string().nullable().describe("The recognition service's ROOM"),
  }),
  z.object({
    type: z.literal('recognition-ignored'),
    sessionId: z.string(),
    rollNo: z.string(),
    day: z.string(),
    seenAt: z.string(),
    reason: z.literal('removed-by-person'),
    room: z.string().nullable().describe("The recognition service's ROOM"),
  }),
  z.object({
    type: z.literal('attendance-corrected'),
    change: AttendanceChangeSchema,
    record: ManualRecordSchema.nullable().describe('The record after the change: the manual mark, or null once removed'),
  }),
  z.object({ type: z.literal('enrollment-problem'), sessionId: z.string(), rollNo: z.string(), code: z.enum(ENROLLMENT_ERROR_CODES), message: z.string() }),
  z.object({ type: z.literal('camera-error'), sessionId: z.string(), code: z.string(), message: z.string() }),
]);
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** An event as sent: a growing id (for `Last-Event-ID`), when it happened, and what happened. */
export type PublishedEvent = { id: number; at: string; event: SessionEvent };

const REPLAYABLE_EVENTS = 200;

/**
 * What happens in recognition sessions, for `GET /events`. The latest events are kept so a client that
 * reconnects with `Last-Event-ID` misses nothing in between; they hold rollNos and times, never images or descriptors.
 */
export class SessionEvents {
  /**
   * Ids go on growing across restarts: they start from the service's start time (in thousandths of a millisecond), so a
   * client reconnecting with an id from before a restart gets every kept event of the new run. Ids counted from 1
   * again were below its id, and it silently missed them.
   */
  private nextId: number;
  private readonly recent: PublishedEvent[] = [];
  private readonly listeners = new Set<(published: PublishedEvent) => void>();

  constructor(startedAt: Date = new Date()) {
    this.nextId = startedAt.getTime() * 1000 + 1;
  }

  /** Subscribers now (one per open `GET /events` stream). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Events kept for replay (at most REPLAYABLE_EVENTS). */
  get keptCount(): number {
    return this.recent.length;
  }

  publish(event: SessionEvent, at: Date = new Date()): void {
    const published = { id: this.nextId++, at: at.toISOString(), event };
    this.recent.push(published);
    if (this.recent.length > REPLAYABLE_EVENTS) this.recent.shift();
    for (const listener of this.listeners) listener(published);
  }

  /** Calls `listener` with the kept events after `lastId` (none when `undefined`), then with each new event until unsubscribed. */
  subscribe(listener: (published: PublishedEvent) => void, lastId?: number): () => void {
    // An id this run never reached came from a run before a restart whose clock stood later (a clock set back): all
    // that is kept is news to that client.
    const after = lastId !== undefined && lastId >= this.nextId ? -Infinity : lastId;
    if (after !== undefined) for (const published of this.recent) if (published.id > after) listener(published);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
