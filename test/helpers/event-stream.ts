export interface ReceivedEvent {
  id: string;
  event: string;
  data: any;
}

export interface EventStream {
  status: number;
  contentType: string | null;
  events: ReceivedEvent[];
  close(): void;
}

/** Reads a server-sent-events stream over real HTTP, collecting its events as they arrive. */
export async function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: ReceivedEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const fields = new Map<string, string>();
          for (const line of buffer.slice(0, end).split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          buffer = buffer.slice(end + 2);
          if (fields.has('event')) events.push({ id: fields.get('id')!, event: fields.get('event')!, data: JSON.parse(fields.get('data')!) });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { status: response.status, contentType: response.headers.get('content-type'), events, close: () => controller.abort() };
}
